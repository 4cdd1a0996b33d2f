internal import CLibXML2
import Foundation

/// An element of a parsed XML document (libxml2), with namespace URIs resolved. Only what the
/// trusted-list reader needs: elements, attributes and their text.
public struct XMLTreeElement: Sendable {
    public var name: String
    public var namespace: String?
    public var attributes: [String: String]
    public var children: [XMLTreeElement]
    /// The element's own text (its text and CDATA children), whitespace-trimmed.
    public var text: String

    public func children(_ name: String, _ namespace: String) -> [XMLTreeElement] {
        children.filter { $0.name == name && $0.namespace == namespace }
    }

    public func child(_ name: String, _ namespace: String) -> XMLTreeElement? {
        children.first { $0.name == name && $0.namespace == namespace }
    }

    /// How many elements of the subtree (this one included) satisfy `predicate`.
    public func count(where predicate: (XMLTreeElement) -> Bool) -> Int {
        (predicate(self) ? 1 : 0) + children.reduce(0) { $0 + $1.count(where: predicate) }
    }

    /// The element at the end of a path of child names in one namespace.
    public func at(_ path: [String], _ namespace: String) -> XMLTreeElement? {
        var e: XMLTreeElement? = self
        for name in path { e = e?.child(name, namespace) }
        return e
    }
}

public enum XMLTree {
    /// Parses a document: no network, no DTD (a DOCTYPE is refused, so no entity is ever
    /// expanded), errors as one line.
    public static func parse(_ bytes: [UInt8], what: String) throws -> XMLTreeElement {
        guard !bytes.isEmpty else { throw ETrustError.badInput("\(what): empty file, not XML", code: .malformedInput) }
        xmlInitParser()
        guard let ctxt = xmlNewParserCtxt() else { throw ETrustError.environment("libxml2: no parser context") }
        defer { xmlFreeParserCtxt(ctxt) }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue)
        let doc = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                xmlCtxtReadMemory(ctxt, $0, Int32(buf.count), nil, nil, options)
            }
        }
        guard let doc else {
            let message = xmlCtxtGetLastError(ctxt).flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "not well-formed"
            throw ETrustError.badInput("\(what): not well-formed XML: \(message.trimmingCharacters(in: .whitespacesAndNewlines))", code: .malformedInput)
        }
        defer { xmlFreeDoc(doc) }
        guard doc.pointee.intSubset == nil else {
            throw ETrustError.badInput("\(what): a DOCTYPE is not allowed in a trusted list", code: .malformedInput)
        }
        guard let root = xmlDocGetRootElement(doc) else { throw ETrustError.badInput("\(what): no root element", code: .malformedInput) }
        return element(root)
    }

    private static func element(_ node: xmlNodePtr) -> XMLTreeElement {
        var attributes: [String: String] = [:]
        var attr = node.pointee.properties
        while let a = attr {
            let name = String(cString: a.pointee.name)
            if let value = xmlNodeListGetString(node.pointee.doc, a.pointee.children, 1) {
                let prefix = a.pointee.ns.flatMap { $0.pointee.prefix.map { String(cString: $0) } }
                attributes[prefix.map { "\($0):\(name)" } ?? name] = String(cString: value)
                etrust_xml_free(value)
            } else {
                attributes[name] = ""
            }
            attr = a.pointee.next
        }
        var children: [XMLTreeElement] = []
        var text = ""
        var child = node.pointee.children
        while let c = child {
            switch c.pointee.type {
            case XML_ELEMENT_NODE: children.append(element(c))
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE: if let t = c.pointee.content { text += String(cString: t) }
            default: break
            }
            child = c.pointee.next
        }
        let ns = node.pointee.ns.flatMap { $0.pointee.href.map { String(cString: $0) } }
        return XMLTreeElement(name: String(cString: node.pointee.name), namespace: ns, attributes: attributes, children: children,
                              text: text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Text escaped for XML content and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
