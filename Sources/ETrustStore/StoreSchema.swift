import Foundation

/// The schema of every engine: one list of versioned migrations (version = position + 1).
public enum StoreSchema {
    /// Versioned migrations, applied in order, each in its own transaction. Written in SQLite's
    /// dialect; `postgres(_:)` translates each for PostgreSQL, so both engines have one list.
    public static let migrations: [String] = [
        """
        CREATE TABLE cas (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            subject TEXT NOT NULL,
            certificate BLOB NOT NULL,
            key_ref TEXT NOT NULL,
            parent TEXT REFERENCES cas(name),
            profile TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE certificates (
            id INTEGER PRIMARY KEY,
            ca_id INTEGER NOT NULL REFERENCES cas(id),
            serial TEXT NOT NULL,
            subject TEXT NOT NULL,
            sans TEXT NOT NULL,
            profile TEXT NOT NULL,
            not_before INTEGER NOT NULL,
            not_after INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
            shard INTEGER NOT NULL DEFAULT 0,
            der BLOB NOT NULL,
            requester TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            revoked_at INTEGER,
            revocation_reason INTEGER,
            UNIQUE (ca_id, serial)
        );
        CREATE INDEX certificates_serial ON certificates(serial);
        CREATE INDEX certificates_status_shard ON certificates(ca_id, status, shard);
        CREATE INDEX certificates_not_after ON certificates(not_after);
        CREATE INDEX certificates_issued_at ON certificates(issued_at);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,          -- log index + 1, contiguous
            time INTEGER NOT NULL,
            type TEXT NOT NULL,
            ca TEXT,
            serial TEXT,
            profile TEXT,
            payload TEXT NOT NULL,           -- the leaf: canonical JSON with its index
            leaf_hash BLOB NOT NULL          -- SHA-256(0x00 || payload), RFC 6962
        );
        CREATE INDEX events_serial ON events(serial);
        CREATE INDEX events_time ON events(time);
        -- Hashes of every perfect subtree of the Merkle log (level 0 = leaves): appends and
        -- proofs read O(log n) of them.
        CREATE TABLE audit_nodes (
            level INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            hash BLOB NOT NULL,
            PRIMARY KEY (level, idx)
        ) WITHOUT ROWID;
        CREATE TABLE checkpoints (
            id INTEGER PRIMARY KEY,
            size INTEGER NOT NULL,
            root BLOB NOT NULL,
            note TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        """,
        // 2: revocation details and CRLs.
        """
        ALTER TABLE certificates ADD COLUMN invalidity_date INTEGER;
        ALTER TABLE certificates ADD COLUMN hold_released_at INTEGER;
        -- When the status last changed (recorded time, not the stated revocation time): what a
        -- delta CRL lists.
        ALTER TABLE certificates ADD COLUMN changed_at INTEGER;
        CREATE INDEX certificates_changed ON certificates(ca_id, changed_at);
        -- One CRL number sequence per CA, shared by its full, shard and delta CRLs (RFC 5280
        -- 5.2.3, 5.2.4). A number is committed before the CRL is signed, so never reused.
        CREATE TABLE crl_numbers (
            ca_id INTEGER PRIMARY KEY REFERENCES cas(id),
            last_number INTEGER NOT NULL
        );
        CREATE TABLE crls (
            id INTEGER PRIMARY KEY,
            ca_id INTEGER NOT NULL REFERENCES cas(id),
            number INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('full', 'shard', 'delta')),
            shard INTEGER,
            base_number INTEGER,
            this_update INTEGER NOT NULL,
            next_update INTEGER NOT NULL,
            entries INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            path TEXT NOT NULL,
            UNIQUE (ca_id, number)
        );
        """,
        // 3: a CRL counts as a delta base only once its file is in place.
        """
        ALTER TABLE crls ADD COLUMN published_at INTEGER;
        UPDATE crls SET published_at = this_update;
        """,
        // 4: delegated OCSP signers and pre-signed OCSP responses (RFC 5019).
        """
        CREATE TABLE ocsp_signers (
            id INTEGER PRIMARY KEY,
            ca_id INTEGER NOT NULL REFERENCES cas(id),
            serial TEXT NOT NULL,
            certificate BLOB NOT NULL,
            key_ref TEXT NOT NULL,
            not_after INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE ocsp_responses (
            ca_id INTEGER NOT NULL REFERENCES cas(id),
            serial TEXT NOT NULL,
            der BLOB NOT NULL,
            this_update INTEGER NOT NULL,
            next_update INTEGER NOT NULL,
            PRIMARY KEY (ca_id, serial)
        ) WITHOUT ROWID;
        """,

        // 5: issuance intents (Boulder's order): the serial and the to-be-signed certificate are
        // committed before the CA signs, so that a crash after signing never leaves a signature
        // nobody recorded. A completed intent is deleted in the transaction that records its
        // certificate (the certificate row is the record); what stays is pending or abandoned.
        """
        CREATE TABLE issuance_intents (
            id INTEGER PRIMARY KEY,
            ca_id INTEGER NOT NULL REFERENCES cas(id),
            serial TEXT NOT NULL,
            profile TEXT NOT NULL,
            subject TEXT NOT NULL,
            tbs BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            owner TEXT NOT NULL,             -- host:pid of the issuing process
            state TEXT NOT NULL CHECK (state IN ('pending', 'abandoned')),
            closed_at INTEGER
        );
        """,
        // 6: a CA whose key was made here and whose certificate is signed elsewhere (an offline
        // root): the request waits here until `etrust ca activate`.
        """
        CREATE TABLE pending_cas (
            name TEXT PRIMARY KEY,
            subject TEXT NOT NULL,
            key_ref TEXT NOT NULL,
            profile TEXT NOT NULL,
            csr BLOB NOT NULL,
            created_at INTEGER NOT NULL
        );
        """,
        // 7: time-stamping units (RFC 3161) and the tokens they issued: an auditor counts and
        // finds them by serial, imprint or time without the tokens themselves.
        """
        CREATE TABLE tsa_signers (
            id INTEGER PRIMARY KEY,
            ca_id INTEGER NOT NULL REFERENCES cas(id),
            serial TEXT NOT NULL,
            certificate BLOB NOT NULL,
            key_ref TEXT NOT NULL,
            policy TEXT NOT NULL,
            not_after INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE timestamp_tokens (
            serial TEXT NOT NULL PRIMARY KEY,
            signer_id INTEGER NOT NULL REFERENCES tsa_signers(id),
            hash_algorithm TEXT NOT NULL,
            imprint TEXT NOT NULL,           -- hex
            gen_time_ms INTEGER NOT NULL,    -- milliseconds since 1970
            policy TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX timestamp_tokens_imprint ON timestamp_tokens(imprint);
        CREATE INDEX timestamp_tokens_time ON timestamp_tokens(gen_time_ms);
        """,
        // 8: the console's event filters (newest first, keyset on id) use an index each.
        """
        CREATE INDEX events_type_id ON events(type, id);
        CREATE INDEX events_ca_id ON events(ca, id);
        CREATE INDEX events_profile_id ON events(profile, id);
        """,
    ]


    /// A migration in PostgreSQL's dialect: 64-bit integers, BYTEA for blobs, identity columns
    /// for the row ids SQLite assigns (BY DEFAULT, so that copied rows keep their ids), and no
    /// WITHOUT ROWID. The schema uses nothing else that differs between the two.
    public static func postgres(_ sql: String) -> String {
        sql.replacingOccurrences(of: "id INTEGER PRIMARY KEY,", with: "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,")
            .replacingOccurrences(of: "INTEGER", with: "BIGINT")
            .replacingOccurrences(of: "BLOB", with: "BYTEA")
            .replacingOccurrences(of: ") WITHOUT ROWID;", with: ");")
    }

    /// The tables a copy between engines carries, parents first, with the column that orders
    /// their rows.
    public static let tables: [(name: String, order: String)] = [
        ("cas", "id"), ("certificates", "id"), ("events", "id"), ("audit_nodes", "level, idx"), ("checkpoints", "id"),
        ("crl_numbers", "ca_id"), ("crls", "id"), ("ocsp_signers", "id"), ("ocsp_responses", "ca_id, serial"),
        ("issuance_intents", "id"), ("pending_cas", "name"),
        ("tsa_signers", "id"), ("timestamp_tokens", "serial"),
    ]
}
