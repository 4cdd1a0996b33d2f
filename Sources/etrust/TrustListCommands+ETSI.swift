import ArgumentParser
import ETrustCA
import ETrustCore
import ETrustValidation
import Foundation

extension TrustListCommand {
    struct ExportETSI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-etsi",
            abstract: "Write the list as an ETSI TS 119 612 XML trusted list, signed (XMLDSig enveloped, XAdES-BES) through xmlsec1.")
        @Option(help: "The list file (etrust JSON).") var list: String
        @Option(help: "The XML trusted list to write.") var out: String
        @Option(help: "The home's CA that issues the signer (default: the first root).") var signer: String?
        @Option(help: "SchemeOperatorName (default: the list's, else the signer's O or CN).") var schemeOperator: String?
        @Option(help: "SchemeTerritory, ISO 3166 (default: the list's, else the signer's C).") var territory: String?
        @OptionGroup var options: HomeOptions

        func run() throws {
            let l = try TrustListCommand.read(list)
            if let territory { try TrustListCommand.checkCountry(territory, option: "--territory") }
            try OutputPath.checkWritableFile(out)
            let signed = try options.changing { authority -> (xml: [UInt8], signer: Certificate) in
                let caName = try signer ?? (authority.caRecords().first { $0.parent == nil }?.name).orThrow("the home has no root CA")
                let (cert, key) = try authority.trustListSigner(ca: caName)
                let caSubject = try authority.chain(of: caName).first?.subject ?? cert.subject
                let writer = ETSITrustListWriter(
                    list: l, schemeOperator: try schemeOperator ?? l.schemeOperator ?? (caSubject.values(ofName: "O").first ?? caSubject.values(ofName: "CN").first)
                        .orThrow("give --scheme-operator NAME"),
                    territory: try territory ?? l.territory ?? caSubject.values(ofName: "C").first.orThrow("give --territory CC"),
                    signer: cert, signingTime: Date())
                return (try XMLSignature.sign(template: try writer.template(), key: key), cert)
            }
            try AtomicFile.write(signed.xml, to: out)
            try TrustListCommand.report(options.json, "wrote \(out): TS 119 612 list #\(l.sequence), \(l.authorities.count) services, signed by \(signed.signer.subject)",
                                        ["list": list, "out": out, "sequence": l.sequence, "services": l.authorities.count,
                                         "signer": signed.signer.subject.description, "bytes": signed.xml.count])
        }
    }

    struct ImportETSI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-etsi",
            abstract: "Verify an ETSI TS 119 612 XML trusted list (signature, signer, NextUpdate) and write its CA services as an etrust list.")
        @Argument(help: "The XML trusted list.") var file: String
        @Option(help: "The list signer's certificate, or the CA certificate that issued it.") var signerCert: String
        @Option(help: "The etrust list (JSON) to write.") var out: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let trusted = try Certificate(bytes: try InputFile.read(signerCert), what: signerCert)
            try OutputPath.checkWritableFile(out)
            let v = try ETSITrustListReader.verify(try InputFile.readLarge(file), signerCertificate: trusted, at: Date(), what: file)
            try TrustListCommand.write(v.list, to: out)
            try TrustListCommand.report(json, "imported \(file) -> \(out): '\(v.list.name)' #\(v.list.sequence) (\(v.list.territory ?? "?")), "
                                        + "\(v.list.authorities.count) CA services\(v.skippedServices > 0 ? ", \(v.skippedServices) other services skipped" : ""), signed by \(v.signer.subject)",
                                        ["file": file, "out": out, "name": v.list.name, "sequence": v.list.sequence, "territory": v.list.territory.map { $0 as Any } ?? NSNull(),
                                         "operator": v.list.schemeOperator.map { $0 as Any } ?? NSNull(), "authorities": v.list.authorities.count,
                                         "skippedServices": v.skippedServices, "signer": v.signer.subject.description, "nextUpdate": v.list.nextUpdate])
        }
    }

    static func checkCountry(_ c: String, option: String) throws {
        guard c.count == 2, c.allSatisfy({ $0.isUppercase && $0.isLetter && $0.isASCII }) else {
            throw ETrustError.badInput("\(option) must be an ISO 3166 two-letter code", code: .invalidArgument)
        }
    }
}
