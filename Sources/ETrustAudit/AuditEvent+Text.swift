import ETrustCore
import Foundation

/// The event as a person reads it: the payload's members (the canonical JSON stays the record;
/// this is a view of it) and one line per event for `audit log` and the console.
extension AuditEvent {
    /// The payload's members as strings (numbers as their decimal text); empty if it is not JSON.
    public var payloadFields: [String: String] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else { return fields }
        return object.mapValues { "\($0)" }
    }

    /// What the event is about, in a few words: the rule of a refusal, else the subject, else
    /// the action (and for a console event, the page).
    public var detail: String {
        let f = payloadFields
        if type == "refuse" { return "rule \(f["rule"] ?? "?"): \(f["reason"] ?? "")" }
        if type == "revoke" { return "reason \(f["reason"] ?? "unspecified")" + (f["subject"].map { " \($0)" } ?? "") }
        if type == "console" { return [f["action"], f["auditor"], f["path"]].compactMap { $0 }.joined(separator: " ") }
        if let s = f["subject"], !s.isEmpty { return s }
        return [f["action"], f["purpose"], f["file"], f["number"].map { "number \($0)" }].compactMap { $0 }.joined(separator: " ")
    }

    /// One line: index, time, type, CA, serial, profile and the detail, columns padded.
    public var line: String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        return pad(index.map(String.init) ?? "-", 7) + " " + RFC3339.format(time) + "  " + pad(type, 11) + " " + pad(ca ?? "-", 12) + " "
            + pad(serialHex ?? "-", 32) + " " + pad(profile ?? "-", 16) + " " + detail
    }
}
