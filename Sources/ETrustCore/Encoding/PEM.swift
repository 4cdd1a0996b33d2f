import Foundation

/// PEM armour (RFC 7468). Only the text framing lives here; the DER inside is OpenSSL's or swift-asn1's.
public enum PEM {
    public static func encode(_ der: [UInt8], label: String) -> String {
        let b64 = Data(der).base64EncodedString()
        var out = "-----BEGIN \(label)-----\n"
        var index = b64.startIndex
        while index < b64.endIndex {
            let end = b64.index(index, offsetBy: 64, limitedBy: b64.endIndex) ?? b64.endIndex
            out += b64[index..<end]
            out += "\n"
            index = end
        }
        out += "-----END \(label)-----\n"
        return out
    }

    /// All PEM blocks of `text` with the given labels, in order.
    public static func decodeAll(_ text: String, labels: Set<String>) throws -> [(label: String, der: [UInt8])] {
        var result: [(String, [UInt8])] = []
        var current: String? = nil
        var body = ""
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if current == nil {
                if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                    let label = String(line.dropFirst(11).dropLast(5))
                    current = label
                    body = ""
                }
            } else if line.hasPrefix("-----END ") {
                let label = current!
                current = nil
                guard line == "-----END \(label)-----" else {
                    throw ETrustError.badInput("PEM block \(label) has a mismatched END line")
                }
                guard labels.contains(label) else { continue }
                guard let data = Data(base64Encoded: body), !data.isEmpty else {
                    throw ETrustError.badInput("PEM block \(label) is not valid base64")
                }
                result.append((label, [UInt8](data)))
            } else if !line.contains(":") {
                body += line
            }
        }
        if let current { throw ETrustError.badInput("PEM block \(current) is truncated (no END line)") }
        return result
    }

    public static func looksLikePEM(_ bytes: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN ".utf8)
        guard bytes.count >= marker.count else { return false }
        // Allow leading whitespace or explanatory text before the block (as openssl writes).
        return bytes.withUnsafeBufferPointer { buf in
            var i = 0
            while i + marker.count <= buf.count {
                if buf[i] == marker[0], Array(buf[i..<i + marker.count]) == marker { return true }
                i += 1
                if i > 4096 { break }
            }
            return false
        }
    }
}

/// Reads an input object that may be PEM or DER and returns its DER blocks.
public enum InputFile {
    /// Inputs larger than this are refused before parsing (a CSR or certificate is a few KiB).
    public static let maximumSize = 1 << 20

    public static func read(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ETrustError.badInput("\(path): no such file", code: .notFound)
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? NSNumber, size.intValue > maximumSize {
            throw ETrustError.badInput("\(path): file is \(size.intValue) bytes, over the 1 MiB limit", code: .inputTooLarge)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ETrustError.badInput("\(path): cannot be read", code: .io)
        }
        if data.count > maximumSize {
            throw ETrustError.badInput("\(path): file is over the 1 MiB limit", code: .inputTooLarge)
        }
        return [UInt8](data)
    }

    /// DER blocks of the given PEM labels, or the whole file as one DER block.
    public static func derBlocks(_ bytes: [UInt8], labels: Set<String>, what: String) throws -> [[UInt8]] {
        if PEM.looksLikePEM(bytes) {
            guard let text = String(bytes: bytes, encoding: .utf8) else {
                throw ETrustError.badInput("\(what): PEM is not valid text")
            }
            let blocks = try PEM.decodeAll(text, labels: labels)
            guard !blocks.isEmpty else {
                throw ETrustError.badInput("\(what): no PEM block labelled \(labels.sorted().joined(separator: " or "))")
            }
            return blocks.map(\.der)
        }
        guard let first = bytes.first, first == 0x30 else {
            throw ETrustError.badInput("\(what): neither PEM nor DER")
        }
        return [bytes]
    }
}

extension InputFile {
    /// A batch file (CSV) may be larger than one object; it is still bounded (64 MiB).
    public static func readLarge(_ path: String) throws -> [UInt8] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw ETrustError.badInput("\(path): no such file", code: .notFound)
        }
        if let size = attributes[.size] as? NSNumber, size.intValue > 64 << 20 {
            throw ETrustError.badInput("\(path): file is over the 64 MiB limit", code: .inputTooLarge)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ETrustError.badInput("\(path): cannot be read", code: .io) }
        return [UInt8](data)
    }
}
