// Little-endian writer and bounds-checked reader of index-file payloads
// (docs/format/index_segment.md). Arrays are a u64 element count followed by the raw
// little-endian elements. Private to the index layer.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/coding.h"
#include "tessera/status.h"

namespace tessera::index::internal {

static_assert(std::endian::native == std::endian::little,
              "index files store arrays in host order, which must be little-endian");

class PayloadWriter {
 public:
  explicit PayloadWriter(std::string* out) : out_(out) {}
  void PutU32(uint32_t value) { base::PutFixed32(out_, value); }
  void PutU64(uint64_t value) { base::PutFixed64(out_, value); }
  template <typename T>
  void PutArray(const T* data, size_t count) {
    static_assert(std::is_trivially_copyable_v<T>);
    PutU64(count);
    out_->append(reinterpret_cast<const char*>(data), count * sizeof(T));
  }
  template <typename T>
  void PutArray(const std::vector<T>& values) {
    PutArray(values.data(), values.size());
  }

 private:
  std::string* out_;
};

// Every Read* returns kCorruption (naming `what`) if the input is too short.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view in) : in_(in) {}
  size_t remaining() const { return in_.size(); }

  Status ReadU32(uint32_t* value, const char* what) {
    if (in_.size() < 4) return Truncated(what);
    *value = base::DecodeFixed32(in_.data());
    in_.remove_prefix(4);
    return Status::OK();
  }
  Status ReadU64(uint64_t* value, const char* what) {
    if (in_.size() < 8) return Truncated(what);
    *value = base::DecodeFixed64(in_.data());
    in_.remove_prefix(8);
    return Status::OK();
  }
  // Read an array of exactly `expected_count` elements (any count if expected_count < 0).
  template <typename T>
  Status ReadArray(std::vector<T>* values, const char* what, int64_t expected_count = -1) {
    static_assert(std::is_trivially_copyable_v<T>);
    uint64_t count = 0;
    TESSERA_RETURN_IF_ERROR(ReadU64(&count, what));
    if (expected_count >= 0 && count != static_cast<uint64_t>(expected_count)) {
      return Status::Corruption("index file: ", what, " has ", count, " elements, expected ",
                                expected_count);
    }
    if (count > in_.size() / sizeof(T)) return Truncated(what);
    values->resize(count);
    if (count > 0) std::memcpy(values->data(), in_.data(), count * sizeof(T));
    in_.remove_prefix(count * sizeof(T));
    return Status::OK();
  }

 private:
  static Status Truncated(const char* what) {
    return Status::Corruption("index file: truncated at ", what);
  }
  std::string_view in_;
};

}  // namespace tessera::index::internal
