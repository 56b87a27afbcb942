// Status: the error type of every fallible Tessera call. The library never
// throws; failures are values that callers must inspect ([[nodiscard]]).
#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace tessera {

/// The closed set of error codes. kConflict is the only retryable one.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kConflict,
  kCorruption,
  kIOError,
  kNotSupported,
  kCancelled,
  kResourceExhausted,
  kInternal,
};

/// Return the name of `code`, e.g. "InvalidArgument".
std::string_view StatusCodeName(StatusCode code);

namespace internal {
template <typename... Args>
std::string StrCat(Args&&... args) {
  if constexpr (sizeof...(Args) == 0) {
    return std::string();
  } else {
    std::ostringstream out;
    (out << ... << std::forward<Args>(args));
    return out.str();
  }
}
}  // namespace internal

/// An OK marker or an error code with a human-readable message.
/// Cheap to copy when OK. Thread-compatible.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
#define TESSERA_STATUS_FACTORY(Name)                                                   \
  template <typename... Args>                                                          \
  static Status Name(Args&&... args) {                                                 \
    return Status(StatusCode::k##Name, internal::StrCat(std::forward<Args>(args)...)); \
  }                                                                                    \
  bool Is##Name() const { return code_ == StatusCode::k##Name; }
  TESSERA_STATUS_FACTORY(InvalidArgument)
  TESSERA_STATUS_FACTORY(NotFound)
  TESSERA_STATUS_FACTORY(AlreadyExists)
  TESSERA_STATUS_FACTORY(Conflict)
  TESSERA_STATUS_FACTORY(Corruption)
  TESSERA_STATUS_FACTORY(IOError)
  TESSERA_STATUS_FACTORY(NotSupported)
  TESSERA_STATUS_FACTORY(Cancelled)
  TESSERA_STATUS_FACTORY(ResourceExhausted)
  TESSERA_STATUS_FACTORY(Internal)
#undef TESSERA_STATUS_FACTORY

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  /// Return "Code: message", or "OK".
  std::string ToString() const;

  /// Return a copy whose message is prefixed with the given context, e.g.
  /// `st.WithContext("manifest ", 7)` -> "manifest 7: <message>". OK stays OK.
  template <typename... Args>
  Status WithContext(Args&&... args) const {
    if (ok()) return *this;
    return Status(code_, internal::StrCat(std::forward<Args>(args)...) + ": " + message_);
  }

  /// Mark the status as inspected when it is deliberately dropped.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& out, const Status& status);

}  // namespace tessera

#define TESSERA_CONCAT_IMPL(a, b) a##b
#define TESSERA_CONCAT(a, b) TESSERA_CONCAT_IMPL(a, b)

/// Evaluate `expr` (a Status or Result) and return its error from the enclosing function.
#define TESSERA_RETURN_IF_ERROR(expr)                                    \
  do {                                                                   \
    ::tessera::Status _tessera_st = ::tessera::internal::AsStatus(expr); \
    if (!_tessera_st.ok()) return _tessera_st;                           \
  } while (0)

namespace tessera::internal {
inline Status AsStatus(Status st) { return st; }
template <typename R>
Status AsStatus(const R& result) {
  return result.status();
}
}  // namespace tessera::internal
