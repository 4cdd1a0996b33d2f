import ETrustCore
import ETrustPolicy
import ETrustTestSupport
import Foundation
import Testing

/// The profiles shipped in `Policies/` and their embedded copy.
@Suite("Shipped profiles")
struct ShippedProfilesTests {
    static let policiesDirectory = TestSupport.packageRoot + "/Policies"

    static let shippedNames = [
        "root-ca", "sub-ca", "citizen-authentication", "citizen-signing", "organisation-seal",
        "tls-server", "tls-server-ov", "tls-client", "ocsp-signing", "timestamping",
    ]

    static var yamlFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: policiesDirectory)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }

    @Test("Policies/ holds the shipped profiles, and only YAML files besides the trust-list schema")
    func directoryListing() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.policiesDirectory)
        #expect(Set(files).isSuperset(of: Self.shippedNames.map { "\($0).yaml" }))
        #expect(files.allSatisfy { $0.hasSuffix(".yaml") || $0 == "trust-list.schema.json" }, "\(files)")
    }

    @Test("every file of Policies/ loads with ProfileLoader.load(file:)", arguments: ShippedProfilesTests.yamlFiles)
    func loadsEachFile(_ file: String) throws {
        let path = Self.policiesDirectory + "/" + file
        let profile = try ProfileLoader.load(file: path)
        // Shipped profiles are named after their files (operators look for NAME.yaml).
        #expect(profile.name + ".yaml" == file)
        #expect(profile.file == path)
        #expect(profile.sha256.count == 32)
        #expect(!profile.keyRules.isEmpty)
        #expect(!profile.keyUsage.isEmpty)
    }

    @Test("loadDirectory reports no error and finds the nine profiles with their kinds")
    func loadDirectory() throws {
        let (profiles, errors) = ProfileLoader.loadDirectory(Self.policiesDirectory)
        #expect(errors.isEmpty, "\(errors.map(\.reason))")
        #expect(Set(profiles.keys).isSuperset(of: Self.shippedNames))
        #expect(profiles.count == Self.yamlFiles.count)
        #expect(profiles["root-ca"]?.kind == .rootCA)
        #expect(profiles["sub-ca"]?.kind == .subCA)
        #expect(profiles["sub-ca"]?.pathLength == 0)
        for name in Self.shippedNames where name != "root-ca" && name != "sub-ca" {
            #expect(profiles[name]?.kind == .endEntity, "\(name)")
            #expect(profiles[name]?.keyUsage.contains(.keyCertSign) == false, "\(name)")
        }
        #expect(profiles["root-ca"]?.keyUsage == [.keyCertSign, .cRLSign])
        #expect(profiles["tls-server"]?.extendedKeyUsage == ["1.3.6.1.5.5.7.3.1"])
        #expect(profiles["timestamping"]?.extendedKeyUsageCritical == true)
        #expect(profiles["ocsp-signing"]?.ocspNoCheck == true)
        #expect(profiles["citizen-signing"]?.qcStatements?.semanticsIdentifier == "0.4.0.194121.1.1")
        #expect(profiles["citizen-signing"]?.qcStatements?.type == .esign)
        #expect(profiles["organisation-seal"]?.qcStatements?.type == .eseal)
    }

    @Test("loadDirectory of a missing folder finds nothing")
    func loadMissingDirectory() {
        let (profiles, errors) = ProfileLoader.loadDirectory("/nonexistent/etrust-policies-\(UUID().uuidString)")
        #expect(profiles.isEmpty)
        #expect(errors.isEmpty)
    }

    @Test("loadDirectory collects every error and names each file")
    func loadDirectoryCollectsErrors() throws {
        let dir = try TestSupport.temporaryDirectory("etrust-policies")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = try String(contentsOfFile: Self.policiesDirectory + "/tls-client.yaml", encoding: .utf8)
        try good.write(toFile: dir + "/tls-client.yaml", atomically: true, encoding: .utf8)
        try (good + "colour: blue\n").write(toFile: dir + "/bad-one.yaml", atomically: true, encoding: .utf8)
        try good.replacingOccurrences(of: "default: 365d", with: "default: soon")
            .write(toFile: dir + "/bad-two.yaml", atomically: true, encoding: .utf8)
        // Same profile name as tls-client.yaml.
        try good.write(toFile: dir + "/copy.yaml", atomically: true, encoding: .utf8)
        try "not a profile".write(toFile: dir + "/README.txt", atomically: true, encoding: .utf8)

        let (profiles, errors) = ProfileLoader.loadDirectory(dir)
        #expect(Set(profiles.keys) == ["tls-client"])
        #expect(errors.count == 3, "\(errors.map(\.reason))")
        #expect(errors.allSatisfy { $0.code == .invalidProfile })
        #expect(errors.contains { $0.reason.contains("bad-one.yaml") && $0.reason.contains("colour") })
        #expect(errors.contains { $0.reason.contains("bad-two.yaml") && $0.reason.contains("validity.default") })
        // copy.yaml sorts first, so tls-client.yaml is the second definition.
        #expect(errors.contains { $0.reason.contains("tls-client.yaml") && $0.reason.contains("'tls-client' is defined twice") })
    }

    @Test("EmbeddedProfiles.files is byte-identical with Policies/ (Tools/embed-policies.sh was run)")
    func embeddedCopyMatches() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.policiesDirectory)
            .filter { $0.hasSuffix(".yaml") }
        #expect(Set(EmbeddedProfiles.files.keys) == Set(files))
        for f in files {
            let onDisk = try #require(FileManager.default.contents(atPath: Self.policiesDirectory + "/" + f))
            let embedded = try #require(EmbeddedProfiles.files[f], "\(f) is not embedded")
            #expect(Array(embedded.utf8) == [UInt8](onDisk), "\(f) differs from its embedded copy; run Tools/embed-policies.sh")
        }
    }

    @Test("each embedded profile loads and has the same hash as its file", arguments: ShippedProfilesTests.yamlFiles)
    func embeddedLoads(_ file: String) throws {
        let text = try #require(EmbeddedProfiles.files[file])
        let embedded = try ProfileLoader.load(text: text, file: file)
        let onDisk = try ProfileLoader.load(file: Self.policiesDirectory + "/" + file)
        #expect(embedded.name == onDisk.name)
        #expect(embedded.sha256 == onDisk.sha256)
    }
}
