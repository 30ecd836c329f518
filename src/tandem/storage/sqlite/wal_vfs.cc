#include "tandem/storage/sqlite/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>

namespace tandem::storage::sqlite {
namespace {

constexpr const char* kVfsName = "tandem-gathering-wal";
// The WAL file format (sqlite.org/fileformat2.html, "WAL File Format"): a 32-byte file header at
// offset 0 (bytes 8-11: the page size, big-endian, 1 meaning 65536), then frames of a 24-byte
// header and a page. Bytes 4-7 of a frame header hold the database size in pages after a
// commit, and zero in every frame that is not a commit's last.
constexpr int kFileHeaderBytes = 32;
constexpr int kFrameHeaderBytes = 24;
// Past this many gathered bytes they are written at once (a transaction that spills pages).
constexpr size_t kGatheredBytesMax = size_t{8} << 20;
// The default VFS writes at most 128 KiB - 1 per call (its unixWrite masks the length to 17
// bits); what was gathered is passed on in pieces of this size.
constexpr size_t kWriteOutBytesMax = size_t{64} << 10;

std::atomic<uint64_t> g_asked{0};
std::atomic<uint64_t> g_written{0};
std::atomic<uint64_t> g_ungathered{0};
std::atomic<uint64_t> g_discarded{0};

enum class Next {
  kGather,      // a write that continues the previous one is gathered
  kCommitPage,  // a commit frame's header came last: its page completes the commit
  kPassOn,      // after a commit: bytes go straight on until the next frame header (padding
                // frames, the rest of a page that SQLite split at a sync point)
};

struct Gathered {
  std::string bytes;
  sqlite3_int64 at = 0;   // file offset of bytes[0]
  sqlite3_int64 end = 0;  // end of the last write; only a write starting here can be gathered
  Next next = Next::kGather;
  sqlite3_int64 frame_bytes = 0;  // 24 + the page size; 0 until known (then nothing is gathered)
};

// What SQLite allocates for a WAL file (szOsFile bytes): this header, then the default VFS's
// own file object.
struct WalFile {
  sqlite3_file base;  // first: all SQLite knows of it
  sqlite3_file* real;
  Gathered* gathered;
};
constexpr size_t kAlign = alignof(std::max_align_t);
constexpr size_t kRealOffset = (sizeof(WalFile) + kAlign - 1) / kAlign * kAlign;

WalFile* Of(sqlite3_file* file) { return reinterpret_cast<WalFile*>(file); }

sqlite3_vfs* Real(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

int PassOn(WalFile* f, const void* data, int amount, sqlite3_int64 offset) {
  g_written.fetch_add(1, std::memory_order_relaxed);
  return f->real->pMethods->xWrite(f->real, data, amount, offset);
}

// A failure is reported as an I/O error, never as SQLITE_FULL: the bytes may be frames of an
// earlier statement, and SQLite undoes only the failing statement after SQLITE_FULL but the
// whole transaction after an I/O error.
int WriteOut(WalFile* f) {
  Gathered& g = *f->gathered;
  int rc = SQLITE_OK;
  for (size_t done = 0; done < g.bytes.size() && rc == SQLITE_OK; done += kWriteOutBytesMax) {
    size_t n = std::min(kWriteOutBytesMax, g.bytes.size() - done);
    rc = PassOn(f, g.bytes.data() + done, static_cast<int>(n),
                g.at + static_cast<sqlite3_int64>(done));
  }
  g.bytes.clear();  // on failure too: the transaction that wrote them is undone
  return rc == SQLITE_OK ? rc : SQLITE_IOERR_WRITE;
}

uint32_t BigEndian32(const unsigned char* b) {
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | uint32_t{b[3]};
}

void LearnFrameSize(Gathered& g, const unsigned char* file_header) {
  uint32_t page = BigEndian32(file_header + 8);
  if (page == 1) page = 65536;
  if (page >= 512 && page <= 65536 && (page & (page - 1)) == 0) {
    g.frame_bytes = kFrameHeaderBytes + page;
  }
}

// A frame header is 24 bytes written where a frame starts; a piece of a page that SQLite split
// around a sync can be 24 bytes long too, but never starts there.
bool IsFrameHeader(const Gathered& g, int amount, sqlite3_int64 offset) {
  return amount == kFrameHeaderBytes && g.frame_bytes > 0 && offset >= kFileHeaderBytes &&
         (offset - kFileHeaderBytes) % g.frame_bytes == 0;
}

bool IsCommitHeader(const void* data) {
  const auto* b = static_cast<const unsigned char*>(data);
  return (b[4] | b[5] | b[6] | b[7]) != 0;
}

// Only a write that continues the previous one is gathered. Everything SQLite writes elsewhere
// (the file header of a restarted WAL at offset 0, a page rewritten in place, the checksums
// rewritten after a commit) is passed on at once, after what was gathered.
int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* f = Of(file);
  Gathered& g = *f->gathered;
  g_asked.fetch_add(1, std::memory_order_relaxed);
  if (offset == 0 && amount >= kFileHeaderBytes) {
    LearnFrameSize(g, static_cast<const unsigned char*>(data));
  } else if (g.frame_bytes == 0 && offset != 0) {
    // A WAL this connection did not start: its header is on the file.
    unsigned char file_header[kFileHeaderBytes];
    if (f->real->pMethods->xRead(f->real, file_header, kFileHeaderBytes, 0) == SQLITE_OK) {
      LearnFrameSize(g, file_header);
    }
  }
  const bool header = IsFrameHeader(g, amount, offset);
  const bool continues = g.frame_bytes > 0 && offset != 0 && offset == g.end;
  g.end = offset + amount;
  bool gathered = false;
  int rc = SQLITE_OK;
  if (continues && (header || g.next != Next::kPassOn)) {
    try {
      if (g.bytes.empty()) g.at = offset;
      g.bytes.append(static_cast<const char*>(data), static_cast<size_t>(amount));
      gathered = true;
    } catch (const std::bad_alloc&) {
      // Out of memory: pass this write on by itself, below.
    }
    const bool commit_complete = !header && g.next == Next::kCommitPage;
    if (gathered && (commit_complete || g.bytes.size() >= kGatheredBytesMax)) rc = WriteOut(f);
  }
  if (!gathered) {
    g_ungathered.fetch_add(1, std::memory_order_relaxed);
    rc = WriteOut(f);
    if (rc == SQLITE_OK) rc = PassOn(f, data, amount, offset);
  }
  if (header) {
    g.next = IsCommitHeader(data) ? Next::kCommitPage : Next::kGather;
  } else if (offset == 0) {
    g.next = Next::kGather;
  } else if (g.next == Next::kCommitPage) {
    g.next = Next::kPassOn;
  }
  return rc;
}

void Discard(Gathered& g) {
  if (g.bytes.empty()) return;
  g_discarded.fetch_add(1, std::memory_order_relaxed);
  g.bytes.clear();
}

// A commit writes out everything it gathered, so what is left at close belongs to a transaction
// that was rolled back.
int Close(sqlite3_file* file) {
  WalFile* f = Of(file);
  Discard(*f->gathered);
  int closed = f->real->pMethods->xClose(f->real);
  delete f->gathered;
  f->gathered = nullptr;
  return closed;
}

// Every other call goes to the default VFS's file; those that look at the file's bytes or size
// first write out what was gathered.
template <bool kWriteOutFirst, auto kMethod, typename... Args>
int Call(sqlite3_file* file, Args... args) {
  WalFile* f = Of(file);
  if constexpr (kWriteOutFirst) {
    int rc = WriteOut(f);
    if (rc != SQLITE_OK) return rc;
  }
  return (f->real->pMethods->*kMethod)(f->real, args...);
}

void ShmBarrier(sqlite3_file* file) {
  WalFile* f = Of(file);
  f->real->pMethods->xShmBarrier(f->real);
}

using M = sqlite3_io_methods;
const sqlite3_io_methods kWalMethods = {
    3,
    Close,
    Call<true, &M::xRead>,
    Write,
    Call<true, &M::xTruncate>,
    Call<true, &M::xSync>,
    Call<true, &M::xFileSize>,
    Call<false, &M::xLock>,
    Call<false, &M::xUnlock>,
    Call<false, &M::xCheckReservedLock>,
    Call<true, &M::xFileControl>,
    Call<false, &M::xSectorSize>,
    Call<false, &M::xDeviceCharacteristics>,
    Call<false, &M::xShmMap>,
    Call<false, &M::xShmLock>,
    ShmBarrier,
    Call<false, &M::xShmUnmap>,
    Call<true, &M::xFetch>,
    Call<false, &M::xUnfetch>,
};

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  sqlite3_vfs* real = Real(vfs);
  if ((flags & SQLITE_OPEN_WAL) == 0) return real->xOpen(real, name, file, flags, out_flags);
  WalFile* f = Of(file);
  f->base.pMethods = nullptr;
  f->gathered = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  std::memset(f->real, 0, static_cast<size_t>(real->szOsFile));
  int rc = real->xOpen(real, name, f->real, flags, out_flags);
  // SQLite closes a file whose pMethods is set even when opening failed; ours stays null, so
  // the default VFS's file is closed here.
  if (rc == SQLITE_OK && f->real->pMethods->iVersion < kWalMethods.iVersion) rc = SQLITE_CANTOPEN;
  if (rc == SQLITE_OK) {
    f->gathered = new (std::nothrow) Gathered;
    if (f->gathered == nullptr) rc = SQLITE_NOMEM;
  }
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    return rc;
  }
  f->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

// The VFS's own calls, passed on to the default VFS.
int Delete(sqlite3_vfs* v, const char* name, int sync_dir) {
  return Real(v)->xDelete(Real(v), name, sync_dir);
}
int Access(sqlite3_vfs* v, const char* name, int flags, int* out) {
  return Real(v)->xAccess(Real(v), name, flags, out);
}
int FullPathname(sqlite3_vfs* v, const char* name, int size, char* out) {
  return Real(v)->xFullPathname(Real(v), name, size, out);
}
void* DlOpen(sqlite3_vfs* v, const char* name) { return Real(v)->xDlOpen(Real(v), name); }
void DlError(sqlite3_vfs* v, int size, char* out) { Real(v)->xDlError(Real(v), size, out); }
void (*DlSym(sqlite3_vfs* v, void* handle, const char* symbol))(void) {
  return Real(v)->xDlSym(Real(v), handle, symbol);
}
void DlClose(sqlite3_vfs* v, void* handle) { Real(v)->xDlClose(Real(v), handle); }
int Randomness(sqlite3_vfs* v, int size, char* out) {
  return Real(v)->xRandomness(Real(v), size, out);
}
int Sleep(sqlite3_vfs* v, int microseconds) { return Real(v)->xSleep(Real(v), microseconds); }
int CurrentTime(sqlite3_vfs* v, double* out) { return Real(v)->xCurrentTime(Real(v), out); }
int GetLastError(sqlite3_vfs* v, int size, char* out) {
  return Real(v)->xGetLastError(Real(v), size, out);
}
int CurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* out) {
  return Real(v)->xCurrentTimeInt64(Real(v), out);
}
int SetSystemCall(sqlite3_vfs* v, const char* name, sqlite3_syscall_ptr fn) {
  return Real(v)->xSetSystemCall(Real(v), name, fn);
}
sqlite3_syscall_ptr GetSystemCall(sqlite3_vfs* v, const char* name) {
  return Real(v)->xGetSystemCall(Real(v), name);
}
const char* NextSystemCall(sqlite3_vfs* v, const char* name) {
  return Real(v)->xNextSystemCall(Real(v), name);
}

}  // namespace

const char* GatheringWalVfs(const char* below) {
  // One gathering VFS per VFS below it, registered on first use and kept for the process's life
  // (SQLite keeps a pointer to each).
  struct Registered {
    sqlite3_vfs vfs{};
    std::string name;
  };
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Registered>> registered;
  const std::string key = below == nullptr ? "" : below;
  std::lock_guard lock(mu);
  auto it = registered.find(key);
  if (it != registered.end()) return it->second->name.c_str();
  sqlite3_vfs* real = sqlite3_vfs_find(below);
  // The calls passed on below are those of a version-3 VFS (the default "unix" one).
  if (real == nullptr || real->iVersion < 3) return nullptr;
  auto r = std::make_unique<Registered>();
  r->name = key.empty() ? kVfsName : std::string(kVfsName) + ":" + key;
  sqlite3_vfs& vfs = r->vfs;
  vfs.iVersion = 3;
  vfs.szOsFile = static_cast<int>(kRealOffset) + real->szOsFile;
  vfs.mxPathname = real->mxPathname;
  vfs.zName = r->name.c_str();
  vfs.pAppData = real;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  vfs.xSetSystemCall = SetSystemCall;
  vfs.xGetSystemCall = GetSystemCall;
  vfs.xNextSystemCall = NextSystemCall;
  if (sqlite3_vfs_register(&vfs, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return registered.emplace(key, std::move(r)).first->second->name.c_str();
}

sqlite3_file* WalFileOf(sqlite3* db) {
  sqlite3_file* wal = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK) {
    return nullptr;
  }
  return wal != nullptr && wal->pMethods != nullptr ? wal : nullptr;
}

int SyncWalFile(sqlite3_file* wal) {
  sqlite3_file* file = wal->pMethods == &kWalMethods ? Of(wal)->real : wal;
  return file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
}

void DiscardRolledBackWalFrames(sqlite3* db) {
  sqlite3_file* wal = WalFileOf(db);
  if (wal != nullptr && wal->pMethods == &kWalMethods) Discard(*Of(wal)->gathered);
}

WalWriteCounts WalWriteCountsNow() {
  return {g_asked.load(std::memory_order_relaxed), g_written.load(std::memory_order_relaxed),
          g_ungathered.load(std::memory_order_relaxed),
          g_discarded.load(std::memory_order_relaxed)};
}

}  // namespace tandem::storage::sqlite
