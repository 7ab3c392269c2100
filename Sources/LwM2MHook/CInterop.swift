import LwM2MABI
import LwM2MCore

/// Byte strings crossing the C ABI.
enum CBytes {
    /// A borrowed view of `bytes`, nil when absent.
    static func buffer(_ bytes: lwm2m_bytes) -> UnsafeBufferPointer<UInt8>? {
        guard let data = bytes.data else { return nil }
        return UnsafeBufferPointer(start: data, count: bytes.length)
    }

    /// A copy of `length` bytes at `start`; empty when `start` is nil.
    static func array(_ start: UnsafeRawPointer?, _ length: Int) -> [UInt8] {
        guard let start, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: length))
    }
}

extension SubnetFact {
    /// An lwm2m_subnet of a `family` server.
    init(_ subnet: lwm2m_subnet, family: AddressFamily) {
        let prefix = withUnsafeBytes(of: subnet.prefix) { raw in
            PrefixKey(family: family, address: raw.bindMemory(to: UInt8.self), length: subnet.prefix_length)
        }
        self.init(id: subnet.id, prefix: prefix)
    }
}

/// An array of lwm2m_subnet read in place as the core's SubnetArray, without
/// copying or allocating.
struct SubnetArray: Sequence {
    let subnets: UnsafeBufferPointer<lwm2m_subnet>
    let family: AddressFamily

    init(_ subnets: UnsafeBufferPointer<lwm2m_subnet>, family: AddressFamily) {
        self.subnets = subnets
        self.family = family
    }

    func makeIterator() -> Iterator { Iterator(base: subnets.makeIterator(), family: family) }

    struct Iterator: IteratorProtocol {
        var base: UnsafeBufferPointer<lwm2m_subnet>.Iterator
        let family: AddressFamily

        mutating func next() -> SubnetFact? {
            guard let subnet = base.next() else { return nil }
            return SubnetFact(subnet, family: family)
        }
    }
}

/// The statuses of lwm2m_core.h as the `int32_t` its functions return.
/// Clang imports a C enum as a struct over its underlying type (unsigned
/// when no value is negative); the ABI's returns are fixed at 32 bits signed.
extension lwm2m_load_status {
    var abiValue: Int32 { Int32(truncatingIfNeeded: rawValue) }
}

extension lwm2m_answer_status {
    var abiValue: Int32 { Int32(truncatingIfNeeded: rawValue) }
}

extension lwm2m_poll_status {
    var abiValue: Int32 { Int32(truncatingIfNeeded: rawValue) }
}

/// Text written into the fixed `char[]` fields of the ABI's structs.
enum CText {
    /// Copies as much of `text` as fits, cut at a UTF-8 character boundary,
    /// and always NUL-terminates.
    static func write<T>(_ text: String, into field: inout T) {
        withUnsafeMutableBytes(of: &field) { raw in
            guard raw.count > 0 else { return }
            let all = Array(text.utf8)
            var cut = min(all.count, raw.count - 1)
            while cut > 0, cut < all.count, all[cut] & 0xC0 == 0x80 { cut -= 1 }
            raw.copyBytes(from: all[0..<cut])
            raw[cut] = 0
        }
    }
}
