import Foundation
import Logging
public import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

// Who may reach the embedded cluster. Its owner (the account mediad runs as) and root connect
// as the superuser role; members of the library root's group (gather's account, say) connect
// as `media_client`, which may read everything and write only what `use`, `plan` and `unpin`
// write. The socket is the gate: it is group-accessible only when the library root's group is
// one the cluster's account belongs to, and PostgreSQL's peer authentication maps each
// operating-system user to its one role.
extension EmbeddedCluster {
    /// The role of every connection that is not the owner's or root's.
    public static let clientRole = "media_client"

    var hbaPath: String { directory + "/pg_hba.conf" }
    var identPath: String { directory + "/pg_ident.conf" }

    /// Whether this process may start and administer the cluster: root, or its owner.
    var canAdminister: Bool {
        let uid = geteuid()
        if uid == 0 { return true }
        var info = stat()
        guard stat(directory, &info) == 0 else { return true }  // none yet: ours to make
        return info.st_uid == uid
    }

    /// The role this process connects as.
    var role: String { canAdminister ? Self.superuser : Self.clientRole }

    /// The URL for a command that never makes a library: the cluster must exist; its owner (or
    /// root) starts it when it is down, anyone else is told who does.
    public func urlWhenReachable() async throws(MediaError) -> DatabaseURL {
        guard isInitialized || !canAdminister else {
            throw MediaError(
                .databaseUnavailable,
                "no DATABASE_URL is set and LIBRARY_ROOT \(libraryRoot) has no embedded PostgreSQL (\(directory)); "
                    + "set DATABASE_URL to the library's database, or let mediad or `mediaq db migrate` make the library")
        }
        if canAdminister {
            try await ensureRunning()
            return url
        }
        try checkSocketPathLength()
        guard access(directory, X_OK) == 0 else {
            throw MediaError(
                .databaseUnavailable,
                "the embedded PostgreSQL in \(directory) belongs to \(ownerDescription) and is not shared with you: "
                    + "join the library's group (docs/operations.md, \"Access\") or set DATABASE_URL")
        }
        guard FileManager.default.fileExists(atPath: socketPath) else {
            throw MediaError(
                .databaseUnavailable,
                "the embedded PostgreSQL in \(directory) is not running; its owner \(ownerDescription) starts it "
                    + "(mediad does when it starts): retry later")
        }
        return url
    }

    var ownerDescription: String {
        var info = stat()
        guard stat(directory, &info) == 0 else { return "its owner" }
        return getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(info.st_uid)"
    }

    // MARK: - Sharing, set at each start

    /// The group the socket is shared with: the library root's, when the cluster's account
    /// belongs to it and it is not root's group. Nil keeps the cluster private to its account.
    func sharedGroup(for account: Account) -> gid_t? {
        var info = stat()
        guard stat(libraryRoot, &info) == 0, info.st_gid != 0 else { return nil }
        return Self.isMember(account, of: info.st_gid) ? info.st_gid : nil
    }

    static func isMember(_ account: Account, of group: gid_t) -> Bool {
        if account.gid == group { return true }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(account.name, account.gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(account.name, account.gid, &groups, &count) >= 0 else { return false }
        }
        return groups.prefix(Int(count)).contains(group)
    }

    static func groupName(_ gid: gid_t) -> String? {
        getgrgid(gid).map { String(cString: $0.pointee.gr_name) }
    }

    /// Writes the authentication files the server is started with, and opens `.db` to the
    /// shared group (enter only: the data directory inside stays the account's alone).
    /// Returns the server options that apply them.
    func prepareAccess(for account: Account) throws(MediaError) -> String {
        let group = sharedGroup(for: account)
        let hba = """
            # Written by the media library each time it starts this cluster: edits are replaced.
            # Peer authentication: the operating-system user decides the role (pg_ident.conf).
            local all all peer map=library

            """
        var ident = """
            # Written by the media library each time it starts this cluster: edits are replaced.
            # MAPNAME SYSTEM-USERNAME PG-USERNAME
            library \(account.name) \(Self.superuser)
            library root \(Self.superuser)

            """
        if group != nil {
            // Only members of the shared group can open the socket; each is the client role.
            ident += "library /^.*$ \(Self.clientRole)\n"
        }
        try writeOwned(hba, to: hbaPath, account: account)
        try writeOwned(ident, to: identPath, account: account)
        var options = " -c hba_file=" + Self.shellQuoted(hbaPath) + " -c ident_file=" + Self.shellQuoted(identPath)
        if let group, let name = Self.groupName(group) {
            guard chown(directory, account.uid, group) == 0, chmod(directory, 0o710) == 0 else {
                throw MediaError(
                    .embeddedDatabaseFailed, "cannot share \(directory) with group \(name): \(LibraryRoot.errnoText())")
            }
            options += " -c unix_socket_group=" + Self.shellQuoted(name) + " -c unix_socket_permissions=0770"
        } else {
            _ = chmod(directory, 0o700)
            options += " -c unix_socket_permissions=0700"
        }
        return options
    }

    private func writeOwned(_ text: String, to path: String, account: Account) throws(MediaError) {
        try AtomicFile.write(Data(text.utf8), to: path, failure: .embeddedDatabaseFailed)
        if account.needsSwitch, chown(path, account.uid, account.gid) != 0 {
            throw MediaError(.embeddedDatabaseFailed, "cannot hand \(path) to user \(account.name): \(LibraryRoot.errnoText())")
        }
    }

    // MARK: - The client role

    /// Makes `media_client` and gives it what readers and the pipeline's database-only writes
    /// need: every table to read; the use counters, the lost mark (an export that finds an
    /// original gone), the index columns the use trigger copies, and pins. Idempotent; run
    /// after migrating, so tables that a migration adds are covered.
    public func grantClientAccess(on connection: PostgresConnection) async throws(MediaError) {
        let role = Self.clientRole
        let statements = [
            """
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(role)') THEN
                    CREATE ROLE \(role) LOGIN;
                END IF;
            END $$
            """,
            "GRANT CONNECT ON DATABASE \(Self.databaseName) TO \(role)",
            "GRANT USAGE ON SCHEMA public TO \(role)",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(role)",
            "GRANT UPDATE (last_used_at, use_count, state) ON asset TO \(role)",
            "GRANT UPDATE ON asset_tag TO \(role)",
            "GRANT INSERT, UPDATE, DELETE ON pin TO \(role)",
        ]
        // Processes opening the library at once would grant at once, and PostgreSQL refuses
        // concurrent changes to the same privileges ("tuple concurrently updated"): one at a time.
        try await connection.transaction("cannot grant \(role) its access", logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(MigrationRunner.advisoryLockKey))", logger: logger)
            for statement in statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }
}
