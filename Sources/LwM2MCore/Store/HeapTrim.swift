#if canImport(Glibc)
import Glibc
#endif

/// Gives the memory a store load freed back to the system.
///
/// Reading a store allocates and frees a lot of small temporaries (the
/// decoder's strings and containers) between the entries that stay. glibc's
/// malloc keeps freed memory below the top of its heap resident for reuse,
/// so after loading 100,000 entries the process held about twice what the
/// store needs. `malloc_trim(0)` returns every free page of every arena to
/// the kernel (`madvise(MADV_DONTNEED)`), which is cheap next to the load
/// itself (a few milliseconds for 100,000 entries) and happens once per load,
/// never on the packet path. `Service` calls it after publishing a new
/// snapshot, when the load's and the encoding's temporaries are all freed.
/// Elsewhere than glibc it does nothing.
public enum HeapTrim {
    public static func releaseFreedMemory() {
        _ = trim?(0)
    }

    /// glibc's `int malloc_trim(size_t pad)`, looked up at run time: the
    /// Glibc module does not import it, and a C library without it (musl)
    /// simply has nothing to trim.
    private typealias Trim = @convention(c) (Int) -> Int32
    private static let trim: Trim? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
        #else
        return nil
        #endif
    }()
}
