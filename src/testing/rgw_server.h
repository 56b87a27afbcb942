// RgwServer: a real S3 server for tests — a single-node Ceph cluster with a RADOS Gateway on
// 127.0.0.1, started and stopped by scripts/rgw.sh in a temporary directory (free ports, so
// concurrent test binaries each get their own). One per test binary: Get() starts it on first
// use and stops it at exit.
#pragma once

#include <string>

#include "tessera/result.h"

namespace tessera::test {

struct RgwEndpoint {
  std::string endpoint;  // http://127.0.0.1:PORT
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
};

class RgwServer {
 public:
  // Return the running server of this process, starting it on first call (a few seconds), and
  // export its AWS_* variables into the environment (so that s3:// tables and child processes
  // reach it). Errors: kNotSupported if Ceph is not installed; kIOError if it failed to start
  // (the message quotes rgw.sh's output).
  static Result<RgwEndpoint> Get();

  // Return true if the Ceph binaries rgw.sh needs are installed.
  static bool Installed();
};

}  // namespace tessera::test
