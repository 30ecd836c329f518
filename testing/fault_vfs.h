// A SQLite VFS for tests that models a disk with a volatile write cache and injects I/O faults,
// in the manner of leveldb's db/fault_injection_test.cc.
//
// FaultVfs registers itself (never as the default VFS) under a name of its own, over the VFS
// that is the default when it is made, and passes every call on to it. Files opened as a main
// database, a WAL or a main journal are tracked by path: before each write or truncation the
// bytes and size it replaces are kept, and a successful sync of the path (through any handle,
// as on Linux) forgets them, the file being durable up to there. PowerCut() then puts every
// tracked file back as its last successful sync left it. Other files (temporary ones) and the
// shared-memory calls pass straight through. Another shim may be registered over it (its
// pAppData naming this VFS), as the WAL-gathering VFS of storage/sqlite/ is.
//
// Thread-safe: SQLite connections on any threads may use the VFS at once, and the methods below
// may be called from any thread; one mutex guards the records and the fault plans.
#pragma once

#include <cstdint>
#include <string>

namespace tandem::testing {

struct FaultVfsState;  // fault_vfs.cc

class FaultVfs {
 public:
  static constexpr const char* kNameDefault = "tandem-fault";

  struct Counts {
    uint64_t writes = 0;  // xWrite calls on tracked files, failed ones included
    uint64_t syncs = 0;   // xSync calls on tracked files, failed ones included
    uint64_t faults = 0;  // calls failed on purpose
  };

  // Registers the VFS as `name` over the current default VFS, or takes over the one an earlier
  // FaultVfs registered as `name`: SQLite, and VFSes stacked over it, keep pointers to it, so it
  // stays registered for the process's life. Preconditions (TANDEM_CHECK): no other FaultVfs of
  // that name exists, no other VFS has that name.
  explicit FaultVfs(const std::string& name = kNameDefault);
  // Forgets the files and plans; the VFS stays registered, passing every call on and failing
  // none. Precondition: no connection is open through it (nor through a VFS over it).
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  // What to pass to sqlite3_open_v2 (or SqliteOptions::vfs).
  const std::string& name() const;

  // Power is lost and comes back: every tracked file gets back the content and size it had at
  // its last successful sync (a file never synced, empty), the `<db>-shm` file of every tracked
  // database is deleted, and the fault plans, the records and the broken state of a failed sync
  // or of DieAfter are cleared (the counters are kept). Precondition: no connection is open on
  // those files; the files are rewritten behind SQLite's back.
  void PowerCut();

  // Each plan counts from now; a new call replaces a plan of its kind.
  // The (`writes` + 1)-th tracked write fails with SQLITE_IOERR_WRITE, having written nothing;
  // the writes after it succeed.
  void FailWriteAfter(int64_t writes);
  // The (`syncs` + 1)-th tracked sync fails with SQLITE_IOERR_FSYNC; the syncs after it succeed,
  // but from then on no sync makes anything durable until PowerCut: the kernel drops the dirty
  // pages of a failed fsync, so a database that carries on after a failed sync and answers later
  // writes as durable loses them at the next power cut.
  void FailSyncAfter(int64_t syncs);
  // After `operations` more tracked writes and syncs, power is as good as gone: every write,
  // sync, truncation and delete fails (SQLITE_IOERR_WRITE, _FSYNC, _TRUNCATE, _DELETE) until
  // PowerCut.
  void DieAfter(int64_t operations);
  // Drops the plans not yet fired. What a failed sync or DieAfter broke stays broken.
  void ClearFaults();

  Counts counts() const;
  // Which call the first fault since the last PowerCut failed, on which file and thread ("sync
  // of /tmp/x/tandem.db-wal on thread tandem-sync (planned)"); empty when none fired. For
  // failure messages.
  std::string FirstFault() const;

 private:
  FaultVfsState& state_;  // lives as long as the process
};

}  // namespace tandem::testing
