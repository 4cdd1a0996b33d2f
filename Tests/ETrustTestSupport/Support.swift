import ETrustCA
