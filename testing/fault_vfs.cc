#include "testing/fault_vfs.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tandem/base/check.h"

namespace tandem::testing {
namespace {

constexpr int kTrackedOpenFlags = SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL;

// What one write or truncation replaced: the bytes at `offset` (as many as the file had there)
// and the file's size before it.
struct Undo {
  uint64_t seq = 0;
  sqlite3_int64 offset = 0;
  std::string old_bytes;
  sqlite3_int64 old_size = 0;
};

// One tracked file, by path, shared by all its handles.
struct TrackedPath {
  std::string path;
  bool main_db = false;
  std::vector<Undo> undo;  // oldest first; none: the file is as durable as it looks
};

// A fault plan: fires on the (left + 1)-th call it counts.
struct Countdown {
  std::optional<int64_t> left;
  // True when this call is the one to fail; counts the call otherwise.
  bool Fires() {
    if (!left) return false;
    if (*left == 0) {
      left.reset();
      return true;
    }
    --*left;
    return false;
  }
};

}  // namespace

struct FaultVfsState {
  sqlite3_vfs vfs{};  // what SQLite calls; pAppData points back here
  sqlite3_vfs* real = nullptr;
  std::string name;

  mutable std::mutex mu;
  // Handles point into it: erased only with no file open (~FaultVfs).
  std::map<std::string, TrackedPath> paths;
  uint64_t next_seq = 1;
  Countdown write_fault;
  Countdown sync_fault;
  Countdown death;
  bool dead = false;          // DieAfter fired
  bool syncs_broken = false;  // a sync failed: no sync makes anything durable any more
  FaultVfs::Counts counts;
  std::string first_fault;  // since the last PowerCut
  bool in_use = false;      // a FaultVfs object has it

  // Under mu: whether this write or sync is to fail (DieAfter counts both).
  bool Dies() {
    if (dead) return true;
    if (death.Fires()) dead = true;
    return dead;
  }

  // Under mu: counts a failed call; returns `rc`.
  int Fault(int rc, const char* call, const std::string& path) {
    ++counts.faults;
    if (first_fault.empty()) {
      char thread[16] = "?";
      (void)pthread_getname_np(pthread_self(), thread, sizeof thread);
      first_fault = std::string(call) + " of " + path + " on thread " + thread +
                    (dead ? " (power gone)" : " (planned)");
    }
    return rc;
  }
};

namespace {

using State = FaultVfsState;

// What SQLite allocates for a tracked file (szOsFile bytes): this header, then the file of the
// VFS below.
struct FaultFile {
  sqlite3_file base;  // first: all SQLite knows of it
  sqlite3_file* real;
  State* state;
  TrackedPath* tracked;
};
constexpr size_t kAlign = alignof(std::max_align_t);
constexpr size_t kRealOffset = (sizeof(FaultFile) + kAlign - 1) / kAlign * kAlign;

FaultFile* Of(sqlite3_file* file) { return reinterpret_cast<FaultFile*>(file); }
State& StateOf(sqlite3_vfs* vfs) { return *static_cast<State*>(vfs->pAppData); }
sqlite3_vfs* Real(sqlite3_vfs* vfs) { return StateOf(vfs).real; }

// Under mu: keeps what the bytes [offset, offset + amount) and the size of `f` are now. A file
// that cannot be read fails the call that would change it.
int Remember(FaultFile* f, sqlite3_int64 offset, sqlite3_int64 amount) {
  sqlite3_int64 size = 0;
  int rc = f->real->pMethods->xFileSize(f->real, &size);
  if (rc != SQLITE_OK) return rc;
  Undo undo;
  undo.seq = f->state->next_seq++;
  undo.offset = offset;
  undo.old_size = size;
  const sqlite3_int64 end = std::min(offset + amount, size);
  if (end > offset) {
    undo.old_bytes.resize(static_cast<size_t>(end - offset));
    rc = f->real->pMethods->xRead(f->real, undo.old_bytes.data(), static_cast<int>(end - offset),
                                  offset);
    if (rc != SQLITE_OK) return rc;
  }
  f->tracked->undo.push_back(std::move(undo));
  return SQLITE_OK;
}

int Close(sqlite3_file* file) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xClose(f->real);
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

// The old bytes are kept and the new ones written under one lock, so that a sync on another
// thread sees either both or neither.
int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  FaultFile* f = Of(file);
  State& s = *f->state;
  std::lock_guard lock(s.mu);
  ++s.counts.writes;
  if (s.Dies() || s.write_fault.Fires()) {
    return s.Fault(SQLITE_IOERR_WRITE, "write", f->tracked->path);
  }
  int rc = Remember(f, offset, amount);
  if (rc != SQLITE_OK) return rc;
  return f->real->pMethods->xWrite(f->real, data, amount, offset);
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  FaultFile* f = Of(file);
  State& s = *f->state;
  std::lock_guard lock(s.mu);
  if (s.dead) return s.Fault(SQLITE_IOERR_TRUNCATE, "truncation", f->tracked->path);
  sqlite3_int64 now = 0;
  int rc = f->real->pMethods->xFileSize(f->real, &now);
  if (rc != SQLITE_OK) return rc;
  rc = Remember(f, size, std::max<sqlite3_int64>(now - size, 0));
  if (rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

// The sync itself runs without the lock (a writer of another file need not wait for it); it
// makes durable only the changes recorded before it began, and nothing once a sync has failed.
int Sync(sqlite3_file* file, int flags) {
  FaultFile* f = Of(file);
  State& s = *f->state;
  uint64_t before = 0;
  {
    std::lock_guard lock(s.mu);
    ++s.counts.syncs;
    if (s.Dies() || s.sync_fault.Fires()) {
      s.syncs_broken = true;
      return s.Fault(SQLITE_IOERR_FSYNC, "sync", f->tracked->path);
    }
    before = s.next_seq;
  }
  int rc = f->real->pMethods->xSync(f->real, flags);
  std::lock_guard lock(s.mu);
  if (rc != SQLITE_OK) {
    s.syncs_broken = true;
    return rc;
  }
  if (!s.syncs_broken) {
    std::erase_if(f->tracked->undo, [before](const Undo& u) { return u.seq < before; });
  }
  return SQLITE_OK;
}

int FileSize(sqlite3_file* file, sqlite3_int64* out) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xFileSize(f->real, out);
}
int Lock(sqlite3_file* file, int level) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xLock(f->real, level);
}
int Unlock(sqlite3_file* file, int level) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xUnlock(f->real, level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

// A size hint may make the VFS below grow the file without xWrite (when a chunk size is set):
// the old size is remembered first.
int FileControl(sqlite3_file* file, int op, void* arg) {
  FaultFile* f = Of(file);
  if (op == SQLITE_FCNTL_SIZE_HINT) {
    State& s = *f->state;
    std::lock_guard lock(s.mu);
    if (s.dead) return s.Fault(SQLITE_IOERR_WRITE, "size hint", f->tracked->path);
    int rc = Remember(f, 0, 0);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xFileControl(f->real, op, arg);
  }
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int SectorSize(sqlite3_file* file) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xSectorSize(f->real);
}
int DeviceCharacteristics(sqlite3_file* file) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}
int ShmMap(sqlite3_file* file, int region, int bytes, int extend, void volatile** out) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xShmMap(f->real, region, bytes, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) {
  FaultFile* f = Of(file);
  f->real->pMethods->xShmBarrier(f->real);
}
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

// No memory-mapped pages of a tracked file: SQLite then reads them with xRead.
int Fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
  *out = nullptr;
  return SQLITE_OK;
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  FaultFile* f = Of(file);
  return f->real->pMethods->xUnfetch(f->real, offset, page);
}

const sqlite3_io_methods kTrackedMethods = {
    .iVersion = 3,
    .xClose = Close,
    .xRead = Read,
    .xWrite = Write,
    .xTruncate = Truncate,
    .xSync = Sync,
    .xFileSize = FileSize,
    .xLock = Lock,
    .xUnlock = Unlock,
    .xCheckReservedLock = CheckReservedLock,
    .xFileControl = FileControl,
    .xSectorSize = SectorSize,
    .xDeviceCharacteristics = DeviceCharacteristics,
    .xShmMap = ShmMap,
    .xShmLock = ShmLock,
    .xShmBarrier = ShmBarrier,
    .xShmUnmap = ShmUnmap,
    .xFetch = Fetch,
    .xUnfetch = Unfetch,
};

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  State& s = StateOf(vfs);
  if (name == nullptr || (flags & kTrackedOpenFlags) == 0) {
    return s.real->xOpen(s.real, name, file, flags, out_flags);
  }
  FaultFile* f = Of(file);
  f->base.pMethods = nullptr;
  f->state = &s;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  std::memset(f->real, 0, static_cast<size_t>(s.real->szOsFile));
  int rc = s.real->xOpen(s.real, name, f->real, flags, out_flags);
  // SQLite closes a file whose pMethods is set even when opening failed; ours stays null, so
  // the file below is closed here.
  if (rc == SQLITE_OK && f->real->pMethods->iVersion < kTrackedMethods.iVersion) {
    rc = SQLITE_CANTOPEN;
  }
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    return rc;
  }
  {
    std::lock_guard lock(s.mu);
    auto [it, added] = s.paths.try_emplace(name);
    if (added) it->second.path = name;
    if ((flags & SQLITE_OPEN_MAIN_DB) != 0) it->second.main_db = true;
    f->tracked = &it->second;
  }
  f->base.pMethods = &kTrackedMethods;
  return SQLITE_OK;
}

// A deleted file is gone, records and all.
int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  State& s = StateOf(vfs);
  std::lock_guard lock(s.mu);
  if (s.dead) return s.Fault(SQLITE_IOERR_DELETE, "delete", name);
  int rc = s.real->xDelete(s.real, name, sync_dir);
  if (rc == SQLITE_OK) {
    if (auto it = s.paths.find(name); it != s.paths.end()) it->second.undo.clear();
  }
  return rc;
}

// The VFS's other calls, passed on to the VFS below.
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

// Puts one file back as its records say, newest first. The file is written with plain system
// calls: no connection has it open (PowerCut's precondition).
void Restore(const TrackedPath& t) {
  if (t.undo.empty()) return;
  const int fd = ::open(t.path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return;  // removed behind SQLite's back (a test's folder)
  TANDEM_CHECK(fd >= 0);
  for (auto u = t.undo.rbegin(); u != t.undo.rend(); ++u) {
    size_t done = 0;
    while (done < u->old_bytes.size()) {
      ssize_t n = ::pwrite(fd, u->old_bytes.data() + done, u->old_bytes.size() - done,
                           static_cast<off_t>(u->offset + static_cast<sqlite3_int64>(done)));
      TANDEM_CHECK(n > 0);
      done += static_cast<size_t>(n);
    }
    TANDEM_CHECK(::ftruncate(fd, static_cast<off_t>(u->old_size)) == 0);
  }
  ::close(fd);
}

// SQLite and every VFS stacked over a FaultVfs (the WAL-gathering one keeps a pointer to the VFS
// below it for the process's life) may hold its sqlite3_vfs after the FaultVfs is gone: the
// state behind each name is never freed, and a later FaultVfs of that name takes it over.
FaultVfsState& Registered(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<FaultVfsState>> registered;
  std::lock_guard lock(mu);
  std::unique_ptr<FaultVfsState>& slot = registered[name];
  if (slot != nullptr) {
    std::lock_guard state_lock(slot->mu);
    TANDEM_CHECK(!slot->in_use);
    slot->in_use = true;
    return *slot;
  }
  // Only a VFS registered here may have this name.
  TANDEM_CHECK(sqlite3_vfs_find(name.c_str()) == nullptr);
  slot = std::make_unique<FaultVfsState>();
  FaultVfsState& s = *slot;
  s.name = name;
  s.in_use = true;
  s.real = sqlite3_vfs_find(nullptr);
  // The calls passed on are those of a version-3 VFS (the default "unix" one).
  TANDEM_CHECK(s.real != nullptr && s.real->iVersion >= 3);
  sqlite3_vfs& v = s.vfs;
  v.iVersion = 3;
  v.szOsFile = static_cast<int>(kRealOffset) + s.real->szOsFile;
  v.mxPathname = s.real->mxPathname;
  v.zName = s.name.c_str();
  v.pAppData = &s;
  v.xOpen = Open;
  v.xDelete = Delete;
  v.xAccess = Access;
  v.xFullPathname = FullPathname;
  v.xDlOpen = DlOpen;
  v.xDlError = DlError;
  v.xDlSym = DlSym;
  v.xDlClose = DlClose;
  v.xRandomness = Randomness;
  v.xSleep = Sleep;
  v.xCurrentTime = CurrentTime;
  v.xGetLastError = GetLastError;
  v.xCurrentTimeInt64 = CurrentTimeInt64;
  v.xSetSystemCall = SetSystemCall;
  v.xGetSystemCall = GetSystemCall;
  v.xNextSystemCall = NextSystemCall;
  TANDEM_CHECK(sqlite3_vfs_register(&v, /*makeDflt=*/0) == SQLITE_OK);
  return s;
}

}  // namespace

FaultVfs::FaultVfs(const std::string& name) : state_(Registered(name)) {}

// Leaves the files as they are and a clean state for the next FaultVfs of this name.
FaultVfs::~FaultVfs() {
  FaultVfsState& s = state_;
  std::lock_guard lock(s.mu);
  s.paths.clear();
  s.write_fault = {};
  s.sync_fault = {};
  s.death = {};
  s.dead = false;
  s.syncs_broken = false;
  s.counts = {};
  s.first_fault.clear();
  s.in_use = false;
}

const std::string& FaultVfs::name() const { return state_.name; }

void FaultVfs::PowerCut() {
  FaultVfsState& s = state_;
  std::lock_guard lock(s.mu);
  for (auto& [path, tracked] : s.paths) {
    Restore(tracked);
    tracked.undo.clear();
    if (tracked.main_db) {
      const std::string shm = path + "-shm";
      (void)::unlink(shm.c_str());
    }
  }
  s.write_fault = {};
  s.sync_fault = {};
  s.death = {};
  s.dead = false;
  s.syncs_broken = false;
  s.first_fault.clear();
}

void FaultVfs::FailWriteAfter(int64_t writes) {
  std::lock_guard lock(state_.mu);
  state_.write_fault.left = writes;
}

void FaultVfs::FailSyncAfter(int64_t syncs) {
  std::lock_guard lock(state_.mu);
  state_.sync_fault.left = syncs;
}

void FaultVfs::DieAfter(int64_t operations) {
  std::lock_guard lock(state_.mu);
  state_.death.left = operations;
}

void FaultVfs::ClearFaults() {
  std::lock_guard lock(state_.mu);
  state_.write_fault = {};
  state_.sync_fault = {};
  state_.death = {};
}

FaultVfs::Counts FaultVfs::counts() const {
  std::lock_guard lock(state_.mu);
  return state_.counts;
}

std::string FaultVfs::FirstFault() const {
  std::lock_guard lock(state_.mu);
  return state_.first_fault;
}

}  // namespace tandem::testing
