#pragma once

#include <sqlite3.h>

#include <cstdint>

namespace tandem::storage::sqlite {

// The name of a VFS, registered on first use, that is SQLite's default VFS except for WAL files.
// SQLite writes every WAL frame with two pwrite calls, its 24-byte header and then the page, so
// a flash-sale commit of about 45 frames made about 90 system calls, three quarters of the
// commit's time. Through this VFS the frames a transaction appends are gathered in memory and
// written in pieces of 64 KiB when the commit frame (the frame whose header holds the database
// size) is complete, before SQLite publishes the commit in the WAL index: what readers and a
// checkpoint can see is always on the file. Only a write that continues the previous one is
// gathered; every other write (a restarted WAL's header, a page rewritten in place, checksums
// rewritten at the commit, a commit's padding after an fsync) and every other operation on the
// WAL file (read, sync, truncate, size, close) first writes out what was gathered. A failed
// write fails the commit as before. The VFS passes everything on to the VFS named `below` (the
// default VFS when null); one is registered per VFS below, looked up by its name, and kept for
// the process's life: the VFS below must stay registered as long. Returns null when none can be.
const char* GatheringWalVfs(const char* below = nullptr);

// The WAL file of `db`'s main database, as SQLite has it open; null before the connection first
// read the database. It stays open until the connection closes.
sqlite3_file* WalFileOf(sqlite3* db);

// Makes what was written to the WAL file durable (xSync of the VFS below the gathering one, or
// of the file itself). Called on another thread than the one writing through `wal`'s connection:
// what the writer has gathered and not written out is not touched (it belongs to a transaction
// that has not committed), and the default VFS's xSync only syncs the descriptor (and, at the
// file's first sync, its folder), which a concurrent pwrite does not disturb; a VFS below must
// allow the same (the tests' fault VFS locks). Returns an SQLite result code.
int SyncWalFile(sqlite3_file* wal);

// Frames gathered but not written out belong to a transaction that did not commit: after a
// rollback (the writer connection's rollback hook calls this) they must never reach the file,
// where another connection may meanwhile have committed frames at the same offsets.
void DiscardRolledBackWalFrames(sqlite3* db);

// Counters for tests, over every WAL file opened through that VFS: the writes SQLite asked for,
// the writes made to the file, those of SQLite's writes that were passed on without being
// gathered, and the times gathered frames were discarded.
struct WalWriteCounts {
  uint64_t asked = 0;
  uint64_t written = 0;
  uint64_t ungathered = 0;
  uint64_t discarded = 0;
};
WalWriteCounts WalWriteCountsNow();

}  // namespace tandem::storage::sqlite
