// Child processes for the front ends and benchmarks that run a pipeline of `tessera` commands
// (the demo, the streaming benchmark): spawn with output to a log file, poll, stop.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tessera/result.h"

namespace tessera::base {

/// A running child process.
struct Subprocess {
  pid_t pid = -1;
  std::string log;  ///< where its stdout and stderr go
};

/// Return the path of the running executable (/proc/self/exe). Errors: kIOError.
Result<std::string> SelfExecutable();

/// Start `program` with `args` (argv[1..]), stdout and stderr written to `log` (truncated).
/// Errors: kIOError (log not creatable, fork failed). An exec failure shows as exit status 127.
Result<Subprocess> Spawn(const std::string& program, const std::vector<std::string>& args,
                         const std::string& log);

/// Return true if `child` still runs; otherwise reap it, set child->pid = -1 and describe how it
/// ended in `*how` ("exited with status 1", "was killed by signal 9").
bool StillRunning(Subprocess* child, std::string* how);

/// Send SIGTERM, wait up to `grace_seconds` for the child to exit, then SIGKILL it; reap it.
/// Returns the exit status (128 + signal for a signal). No-op (returns -1) if pid < 0.
int Terminate(Subprocess* child, double grace_seconds);

/// Return the last non-empty line of the text file at `path` ("" if none).
std::string LastLineOf(const std::string& path);

}  // namespace tessera::base
