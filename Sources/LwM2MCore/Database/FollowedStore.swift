/// The store a database follower last served, row by row, so that a change
/// is applied by reading, checking and assembling only the rows it wrote.
///
/// `applying(_:)` gives the store at the new revision when the change can
/// be applied on its own, and nil whenever that is in doubt; the follower
/// then reads the whole store as at load(), which also words every problem
/// of an invalid store. In doubt means: a row's check fails (the full read
/// says why), two entries would share a selector, positions would no longer
/// run 1...N (an entry removed from the middle of the list shifts all
/// positions after it, and rewrites those rows anyway), a certificate (or
/// raw public key) row was rewritten in place, or the table holds another
/// number of rows than the applied change leaves (rows removed without
/// tombstones, by TRUNCATE).
struct FollowedStore {
    /// The revision the store is at.
    let revision: Int64
    /// Positions 1...N, in order.
    let entryRows: [StoreRows.Entry]
    /// Position 0, the store's `default`.
    let defaultRow: StoreRows.Entry?
    /// DER by SHA-256, of the certificates (and raw public keys) the rows
    /// refer to.
    let certificates: [String: [UInt8]]
    /// Which of them are raw public keys.
    let rawPublicKeys: Set<String>
    /// How many rows refer to each certificate.
    let references: [String: Int]
    /// The validated store: entry `index` is position - 1.
    let store: Store
    /// Which entry index holds each selector.
    let selectors: [StoreEntry.Selector: Int]

    /// The store read whole at `revision` and validated as `store`.
    init(revision: Int64, rows: StoreRows, store: Store) {
        self.revision = revision
        var entryRows: [StoreRows.Entry] = []
        entryRows.reserveCapacity(rows.entries.count)
        var defaultRow: StoreRows.Entry? = nil
        var references: [String: Int] = [:]
        for row in rows.entries {
            if row.position == StoreRows.defaultPosition { defaultRow = row } else { entryRows.append(row) }
            if let sha = row.certificate { references[sha, default: 0] += 1 }
        }
        self.entryRows = entryRows
        self.defaultRow = defaultRow
        self.references = references
        self.certificates = rows.certificates.filter { references[$0.key] != nil }
        self.rawPublicKeys = rows.rawPublicKeys.filter { references[$0] != nil }
        self.store = store
        var selectors: [StoreEntry.Selector: Int] = [:]
        selectors.reserveCapacity(store.entries.count)
        for entry in store.entries { selectors[entry.selector] = entry.index }
        self.selectors = selectors
    }

    private init(revision: Int64, entryRows: [StoreRows.Entry], defaultRow: StoreRows.Entry?,
                 certificates: [String: [UInt8]], rawPublicKeys: Set<String>, references: [String: Int],
                 store: Store, selectors: [StoreEntry.Selector: Int]) {
        self.revision = revision
        self.entryRows = entryRows
        self.defaultRow = defaultRow
        self.certificates = certificates
        self.rawPublicKeys = rawPublicKeys
        self.references = references
        self.store = store
        self.selectors = selectors
    }

    /// Whether a whole read kept positions 1...N, so that a later change
    /// can be applied to it (a store written by hand with gaps cannot).
    var isContiguous: Bool {
        entryRows.enumerated().allSatisfy { $0.element.position == Int32(clamping: $0.offset + 1) }
            && store.entries.count == entryRows.count
    }

    /// Every row, the default first (as `StoreRows` orders them).
    var rows: StoreRows {
        StoreRows(entries: (defaultRow.map { [$0] } ?? []) + entryRows, certificates: certificates,
                  rawPublicKeys: rawPublicKeys)
    }

    /// The store with `changes` applied, checked; nil when in doubt (see
    /// the type's description).
    func applying(_ changes: StoreDatabase.Changes, label: String, certificateFolder folder: String)
        -> FollowedStore? {
        let count = entryRows.count
        var upserted: [Int32: StoreRows.Entry] = [:]
        for row in changes.entries {
            guard row.position >= 0 else { return nil }
            upserted[row.position] = row
        }
        // Rows removed, not written again: only the tail may go.
        let removed = Set(changes.deleted.filter { $0 >= 1 && Int($0) <= count && upserted[$0] == nil })
        let removesDefault = changes.deleted.contains(StoreRows.defaultPosition)
            && upserted[StoreRows.defaultPosition] == nil
        let added = upserted.keys.filter { Int($0) > count }.sorted()
        let newCount = count - removed.count + added.count
        guard removed.allSatisfy({ Int($0) > newCount }), added.allSatisfy({ Int($0) <= newCount }) else { return nil }
        let newDefault = upserted[StoreRows.defaultPosition] ?? (removesDefault ? nil : defaultRow)
        let expectedRows = Int64(newCount) + (newDefault == nil ? 0 : 1)
        guard expectedRows == changes.entryCount else { return nil }

        // Certificates: new ones only (a rewritten one may change entries
        // that were not read again).
        var certificates = self.certificates
        var rawPublicKeys = self.rawPublicKeys
        for (sha, der) in changes.certificates {
            let isRawPublicKey = changes.rawPublicKeys.contains(sha)
            if let held = certificates[sha] {
                guard held == der, rawPublicKeys.contains(sha) == isRawPublicKey else { return nil }
            } else {
                certificates[sha] = der
                if isRawPublicKey { rawPublicKeys.insert(sha) }
            }
        }

        // Check the rows written, as a store of their own.
        let written = upserted.values.sorted { $0.position < $1.position }
        var checked: Store
        do {
            checked = try StoreRows(entries: written, certificates: certificates, rawPublicKeys: rawPublicKeys)
                .store(label: label, certificateFolder: folder, comment: "").store
        } catch {
            return nil
        }
        let writtenEntries = written.filter { $0.position != StoreRows.defaultPosition }
        guard checked.entries.count == writtenEntries.count,
              (checked.defaultEntry != nil) == (upserted[StoreRows.defaultPosition] != nil) else { return nil }

        // Reuse the certificates already held, so entries naming the same
        // one share its bytes (the snapshot encodes each once).
        var shared: [String: ServerCertificate] = [:]
        func sharedCertificate(_ sha: String) -> ServerCertificate? {
            if let found = shared[sha] { return found }
            guard self.certificates[sha] != nil else { return nil }
            var found: ServerCertificate? = nil
            if self.defaultRow?.certificate == sha {
                found = self.store.defaultEntry?.certificate
            } else if let index = self.entryRows.firstIndex(where: { $0.certificate == sha }),
                      index < self.store.entries.count {
                found = self.store.entries[index].certificate
            }
            shared[sha] = found
            return found
        }
        func rebuilt(_ entry: StoreEntry, row: StoreRows.Entry, index: Int) -> StoreEntry {
            StoreEntry(index: index, selector: entry.selector, bootstrapURI: entry.bootstrapURI,
                       certificate: row.certificate.flatMap(sharedCertificate) ?? entry.certificate,
                       certificatePath: entry.certificatePath, alwaysSend: entry.alwaysSend)
        }

        var entryRows = self.entryRows
        var entries = store.entries
        var selectors = self.selectors
        var references = self.references
        func release(_ row: StoreRows.Entry?) {
            guard let sha = row?.certificate, let held = references[sha] else { return }
            references[sha] = held > 1 ? held - 1 : nil
        }
        // Selectors of the entries replaced or removed go first, so two
        // entries may swap theirs in one change.
        for position in upserted.keys where position >= 1 && Int(position) <= count {
            let index = Int(position) - 1
            if selectors[entries[index].selector] == index { selectors[entries[index].selector] = nil }
            release(entryRows[index])
        }
        for position in removed {
            let index = Int(position) - 1
            if selectors[entries[index].selector] == index { selectors[entries[index].selector] = nil }
            release(entryRows[index])
        }
        if upserted[StoreRows.defaultPosition] != nil || removesDefault { release(defaultRow) }
        entryRows.removeLast(removed.count)
        entries.removeLast(removed.count)
        for (row, entry) in zip(writtenEntries, checked.entries) {
            let index = Int(row.position) - 1
            let fresh = rebuilt(entry, row: row, index: index)
            guard selectors.updateValue(index, forKey: fresh.selector) == nil else { return nil }
            if let sha = row.certificate { references[sha, default: 0] += 1 }
            if index < entryRows.count {
                entryRows[index] = row
                entries[index] = fresh
            } else {
                guard index == entryRows.count else { return nil }
                entryRows.append(row)
                entries.append(fresh)
            }
        }
        if let row = upserted[StoreRows.defaultPosition], let sha = row.certificate { references[sha, default: 0] += 1 }
        var defaultEntry = removesDefault ? nil : store.defaultEntry
        if let entry = checked.defaultEntry, let row = upserted[StoreRows.defaultPosition] {
            defaultEntry = rebuilt(entry, row: row, index: StoreEntry.defaultIndex)
        }
        certificates = certificates.filter { references[$0.key] != nil }
        rawPublicKeys = rawPublicKeys.filter { references[$0] != nil }
        checked = Store(path: label, entries: entries, defaultEntry: defaultEntry)
        return FollowedStore(revision: changes.revision, entryRows: entryRows, defaultRow: newDefault,
                             certificates: certificates, rawPublicKeys: rawPublicKeys, references: references,
                             store: checked, selectors: selectors)
    }
}
