// Helpers of the POSIX FileSystem, exposed for its tests. Private to src/io.
#pragma once

#include <string>
#include <string_view>

#include "tessera/status.h"

namespace tessera::io::internal {

// Return the Status for OS call `op` on `path` that failed with errno `err`:
// ENOENT and ENOTDIR -> kNotFound, EEXIST -> kAlreadyExists, ENOSPC and EDQUOT ->
// kResourceExhausted ("disk full"), anything else -> kIOError. The message names
// `op`, `path` and strerror(err).
Status ErrnoToStatus(std::string_view op, std::string_view path, int err);

// Return the directory part of `path`: "a/b" for "a/b/c", "." for "c", "/" for "/c".
std::string DirName(std::string_view path);

// Return the last component of `path`, ignoring trailing '/': "c" for "a/b/c/".
std::string BaseName(std::string_view path);

// Return the name of a fresh temp file beside `path` for CreateExclusive:
// "<dir>/.<base>.tmp.<pid>.<random>". The leading '.' keeps it out of listings
// that skip hidden files; the pid and random part keep racing writers apart.
std::string TempPathFor(std::string_view path);

}  // namespace tessera::io::internal
