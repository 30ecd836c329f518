#!/usr/bin/python3
"""Which b-trees the commits in a WAL file wrote: frames per commit, by table or index.

How docs/performance.md (steps 9 and 10) found the indexes that cost the most WAL frames. Run the
flash sale, stop the server with `kill -9` so that its WAL is not checkpointed away, then:

    bench/wal_frames.py DATA_FOLDER [--top N]

Reads the frames of the WAL's current generation (those carrying the salts of its header), takes
each frame's page number from its header, and names the page through SQLite's `dbstat` table on a
copy of the database and its WAL (the server's files are never opened).
"""

import argparse
import collections
import os
import shutil
import sqlite3
import struct
import sys
import tempfile

WAL_HEADER = struct.Struct(">IIIIIIII")   # magic, version, page size, checkpoint, salts, checksums
FRAME_HEADER = struct.Struct(">IIII")     # page number, database size if a commit, salts


def frames_of(wal: bytes):
    """(page number, is commit) of every frame of the WAL's current generation."""
    if len(wal) < WAL_HEADER.size:
        return []
    _, _, page_size, _, salt1, salt2, _, _ = WAL_HEADER.unpack_from(wal)
    frame_size = 24 + page_size
    out = []
    offset = WAL_HEADER.size
    while offset + frame_size <= len(wal):
        page, commit_size, s1, s2 = FRAME_HEADER.unpack_from(wal, offset)
        if (s1, s2) != (salt1, salt2):
            break
        out.append((page, commit_size != 0))
        offset += frame_size
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="the server's data folder (tandem.db and tandem.db-wal)")
    parser.add_argument("--top", type=int, default=20, help="b-trees to list (20)")
    args = parser.parse_args()
    db = os.path.join(args.data, "tandem.db")
    if not os.path.exists(db + "-wal"):
        sys.exit(f"no WAL file next to {db}: stop the server with kill -9, not gracefully")
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "tandem.db")
        shutil.copy(db, copy)
        shutil.copy(db + "-wal", copy + "-wal")
        with open(copy + "-wal", "rb") as f:
            frames = frames_of(f.read())
        conn = sqlite3.connect(copy)
        names = dict(conn.execute("SELECT pageno, name FROM dbstat"))
        conn.close()
    commits = sum(1 for _, commit in frames if commit)
    if commits == 0:
        sys.exit("the WAL holds no commit")
    print(f"{len(frames)} frames, {commits} commits, {len(frames) / commits:.1f} frames per commit")
    counts = collections.Counter(names.get(page, "?") for page, _ in frames)
    print(f"{'per commit':>10}  {'share':>6}  b-tree")
    for name, n in counts.most_common(args.top):
        print(f"{n / commits:10.2f}  {100 * n / len(frames):5.1f}%  {name}")


if __name__ == "__main__":
    main()
