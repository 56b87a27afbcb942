// FaultProxy: an HTTP proxy for tests that sits between Tessera's S3 client and a real S3
// server and misbehaves on chosen requests: delays them, drops the connection before or after
// the server applied them, resets, or answers 500/503 instead of the server's reply. The rule
// sees each request's method, path and headers, so a test can aim at, say, the conditional PUT
// of a manifest after the server has applied it.
//
// One request per connection (it forwards with "Connection: close" and closes after replying;
// SigV4 signatures stay valid because the request bytes, Host header included, are forwarded
// unchanged). Thread-safe; stops in the destructor.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tessera/result.h"

namespace tessera::test {

struct ProxiedRequest {
  std::string method;   // "PUT"
  std::string target;   // "/bucket/key?query"
  std::string headers;  // the raw header block, lower-cased names
  bool HasHeader(std::string_view lower_name) const;
};

enum class Fault {
  kNone,            // forward and relay the reply
  kDelay,           // sleep delay_ms, then forward
  kDropBefore,      // close the client connection without forwarding
  kResetAfter,      // forward (the server applies it), then close without replying
  kError500Before,  // answer 500 without forwarding
  kError500After,   // forward (applied), then answer 500 UnknownError instead of the reply
  kError503Before,  // answer 503 SlowDown without forwarding
};

struct FaultAction {
  Fault fault = Fault::kNone;
  int64_t delay_ms = 0;
};

class FaultProxy {
 public:
  using Rule = std::function<FaultAction(const ProxiedRequest&)>;

  // Listen on 127.0.0.1 (a free port) and forward to `upstream` ("http://127.0.0.1:PORT").
  static Result<std::unique_ptr<FaultProxy>> Start(const std::string& upstream);
  ~FaultProxy();

  // "http://127.0.0.1:PORT" of the proxy.
  std::string endpoint() const;
  // Replace the rule (default: forward everything).
  void SetRule(Rule rule);
  // Faults injected so far.
  int64_t faults_injected() const { return faults_.load(); }

 private:
  FaultProxy() = default;
  void AcceptLoop();
  void Serve(int client);

  int listen_fd_ = -1;
  int port_ = 0;
  std::string upstream_host_;
  int upstream_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> faults_{0};
  std::mutex mu_;
  Rule rule_;  // guarded by mu_
  std::thread acceptor_;
  std::mutex threads_mu_;
  std::vector<std::thread> threads_;  // guarded by threads_mu_
};

}  // namespace tessera::test
