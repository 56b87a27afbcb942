#include "testing/s3_fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

namespace tessera::test {
namespace {

// Read from `fd` until the end of the header block and the Content-Length body after it (or,
// when `until_eof`, until the peer closes). Returns false on a read error or timeout.
bool ReadMessage(int fd, bool until_eof, std::string* out) {
  out->clear();
  char buffer[65536];
  size_t header_end = std::string::npos;
  size_t body_length = 0;
  while (true) {
    if (!until_eof && header_end != std::string::npos &&
        out->size() >= header_end + 4 + body_length) {
      return true;
    }
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 30000) <= 0) return false;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) return false;
    if (n == 0)
      return until_eof ||
             (header_end != std::string::npos && out->size() >= header_end + 4 + body_length);
    out->append(buffer, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      header_end = out->find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string lower = out->substr(0, header_end);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const size_t at = lower.find("\r\ncontent-length:");
        if (at != std::string::npos)
          body_length = std::strtoull(lower.c_str() + at + 17, nullptr, 10);
      }
    }
  }
}

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string CannedReply(int status, const char* reason, const char* code) {
  const std::string body = std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>") +
                           code + "</Code><Message>injected by the test proxy</Message></Error>";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

bool ProxiedRequest::HasHeader(std::string_view lower_name) const {
  return headers.find("\r\n" + std::string(lower_name) + ":") != std::string::npos;
}

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(const std::string& upstream) {
  auto proxy = std::unique_ptr<FaultProxy>(new FaultProxy());
  // upstream: http://HOST:PORT
  std::string_view rest = upstream;
  if (rest.starts_with("http://")) rest.remove_prefix(7);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument("upstream needs a port");
  proxy->upstream_host_ = std::string(rest.substr(0, colon));
  proxy->upstream_port_ = std::atoi(std::string(rest.substr(colon + 1)).c_str());
  proxy->listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (proxy->listen_fd_ < 0) return Status::IOError("proxy: socket failed");
  int one = 1;
  ::setsockopt(proxy->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(proxy->listen_fd_, 128) != 0) {
    return Status::IOError("proxy: bind/listen failed");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  proxy->port_ = ntohs(addr.sin_port);
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard<std::mutex> lock(threads_mu_);
  for (std::thread& thread : threads_) thread.join();
}

std::string FaultProxy::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FaultProxy::SetRule(Rule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rule_ = std::move(rule);
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    const int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    std::lock_guard<std::mutex> lock(threads_mu_);
    threads_.emplace_back([this, client] { Serve(client); });
  }
}

void FaultProxy::Serve(int client) {
  std::string request;
  if (!ReadMessage(client, /*until_eof=*/false, &request)) {
    ::close(client);
    return;
  }
  const size_t header_end = request.find("\r\n\r\n");
  const size_t line_end = request.find("\r\n");
  ProxiedRequest parsed;
  {
    const std::string line = request.substr(0, line_end);
    const size_t sp1 = line.find(' ');
    const size_t sp2 = line.find(' ', sp1 + 1);
    parsed.method = line.substr(0, sp1);
    parsed.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    parsed.headers = request.substr(line_end, header_end - line_end);
    std::transform(parsed.headers.begin(), parsed.headers.end(), parsed.headers.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  FaultAction action;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (rule_) action = rule_(parsed);
  }
  if (action.fault != Fault::kNone) ++faults_;
  switch (action.fault) {
    case Fault::kDropBefore:
      ::close(client);
      return;
    case Fault::kError500Before:
      WriteAll(client, CannedReply(500, "Internal Server Error", "UnknownError"));
      ::close(client);
      return;
    case Fault::kError503Before:
      WriteAll(client, CannedReply(503, "Slow Down", "SlowDown"));
      ::close(client);
      return;
    case Fault::kDelay:
      std::this_thread::sleep_for(std::chrono::milliseconds(action.delay_ms));
      break;
    default:
      break;
  }
  // Forward with "Connection: close" (one request per upstream connection; read to EOF).
  std::string forwarded = request.substr(0, line_end) + "\r\nConnection: close";
  {
    // Drop the client's own Connection header, keep the rest byte for byte.
    size_t at = line_end + 2;
    while (at < header_end + 2) {
      const size_t next = request.find("\r\n", at);
      const std::string header = request.substr(at, next - at);
      std::string lower = header;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (!lower.starts_with("connection:")) forwarded += "\r\n" + header;
      at = next + 2;
    }
    forwarded += "\r\n\r\n";
    forwarded += request.substr(header_end + 4);
  }
  const int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
  ::inet_pton(AF_INET, upstream_host_.c_str(), &addr.sin_addr);
  std::string reply;
  const bool ok = ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  WriteAll(upstream, forwarded) &&
                  ReadMessage(upstream, /*until_eof=*/true, &reply);
  ::close(upstream);
  if (!ok) {
    ::close(client);
    return;
  }
  switch (action.fault) {
    case Fault::kResetAfter: {
      linger hard{1, 0};  // RST instead of FIN
      ::setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
      break;
    }
    case Fault::kError500After:
      WriteAll(client, CannedReply(500, "Internal Server Error", "UnknownError"));
      break;
    default:
      WriteAll(client, reply);
      break;
  }
  ::close(client);
}

}  // namespace tessera::test
