import ETrustCore
import ETrustPolicy

enum ProfileLoaderFacade {
    static func load(_ dir: String) -> (profiles: [String], errors: [String]) {
        let (profiles, errors) = ProfileLoader.loadDirectory(dir)
        return (profiles.keys.sorted(), errors.map(\.reason))
    }
}
