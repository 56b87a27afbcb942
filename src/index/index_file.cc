#include "index/index_file.h"

#include <cstring>

#include "base/coding.h"
#include "base/crc32c.h"
#include "index/ivf_flat.h"
#include "index/ivf_hnsw_sq.h"
#include "index/ivf_pq.h"

namespace tessera::index {
namespace {

// Header field offsets; see docs/format/index_segment.md.
constexpr size_t kVersionOffset = 4;
constexpr size_t kTypeOffset = 8;
constexpr size_t kMetricOffset = 12;
constexpr size_t kDimOffset = 16;
constexpr size_t kFlagsOffset = 20;
constexpr size_t kNumRowsOffset = 24;
constexpr size_t kPayloadSizeOffset = 32;
constexpr size_t kPayloadCrcOffset = 40;
constexpr size_t kHeaderCrcOffset = 44;
static_assert(kHeaderCrcOffset + 4 == kIndexFileHeaderSize);

bool IsKnownType(uint32_t value) {
  return value >= static_cast<uint32_t>(IndexType::kIvfFlat) &&
         value <= static_cast<uint32_t>(IndexType::kIvfPq);
}

}  // namespace

std::string SerializeIndex(const VectorIndex& index) {
  std::string out(kIndexFileHeaderSize, '\0');
  index.AppendPayload(&out);
  const size_t payload_size = out.size() - kIndexFileHeaderSize;
  char* header = out.data();
  std::memcpy(header, kIndexFileMagic, 4);
  base::EncodeFixed32(header + kVersionOffset, kIndexFormatVersion);
  base::EncodeFixed32(header + kTypeOffset, static_cast<uint32_t>(index.type()));
  base::EncodeFixed32(header + kMetricOffset, static_cast<uint32_t>(index.metric()));
  base::EncodeFixed32(header + kDimOffset, static_cast<uint32_t>(index.dim()));
  base::EncodeFixed32(header + kFlagsOffset, 0);
  base::EncodeFixed64(header + kNumRowsOffset, static_cast<uint64_t>(index.num_rows()));
  base::EncodeFixed64(header + kPayloadSizeOffset, payload_size);
  base::EncodeFixed32(
      header + kPayloadCrcOffset,
      base::Crc32cMask(base::Crc32c(out.data() + kIndexFileHeaderSize, payload_size)));
  base::EncodeFixed32(header + kHeaderCrcOffset,
                      base::Crc32cMask(base::Crc32c(header, kHeaderCrcOffset)));
  return out;
}

Result<IndexFileHeader> ReadIndexFileHeader(std::string_view bytes) {
  if (bytes.size() < kIndexFileHeaderSize) {
    return Status::Corruption("index file: ", bytes.size(), " bytes is shorter than the header");
  }
  const char* header = bytes.data();
  if (std::memcmp(header, kIndexFileMagic, 4) != 0) {
    return Status::Corruption("index file: bad magic");
  }
  if (base::Crc32cUnmask(base::DecodeFixed32(header + kHeaderCrcOffset)) !=
      base::Crc32c(header, kHeaderCrcOffset)) {
    return Status::Corruption("index file: header checksum mismatch");
  }
  IndexFileHeader result;
  result.format_version = base::DecodeFixed32(header + kVersionOffset);
  if (result.format_version == 0) return Status::Corruption("index file: format version 0");
  if (result.format_version > kIndexFormatVersion) {
    return Status::NotSupported("index file: format version ", result.format_version,
                                " is newer than this build reads (", kIndexFormatVersion, ")");
  }
  const uint32_t type = base::DecodeFixed32(header + kTypeOffset);
  const uint32_t metric = base::DecodeFixed32(header + kMetricOffset);
  const uint32_t dim = base::DecodeFixed32(header + kDimOffset);
  if (!IsKnownType(type)) return Status::Corruption("index file: unknown index type ", type);
  if (!IsValidMetric(metric)) return Status::Corruption("index file: unknown metric ", metric);
  if (dim == 0 || dim > static_cast<uint32_t>(kMaxIndexDim)) {
    return Status::Corruption("index file: bad dim ", dim);
  }
  if (base::DecodeFixed32(header + kFlagsOffset) != 0) {
    return Status::Corruption("index file: unknown flags");
  }
  result.type = static_cast<IndexType>(type);
  result.metric = static_cast<Metric>(metric);
  result.dim = static_cast<int32_t>(dim);
  result.num_rows = base::DecodeFixed64(header + kNumRowsOffset);
  result.payload_size = base::DecodeFixed64(header + kPayloadSizeOffset);
  return result;
}

Result<std::unique_ptr<VectorIndex>> DeserializeIndex(std::string_view bytes) {
  TESSERA_ASSIGN_OR_RETURN(IndexFileHeader header, ReadIndexFileHeader(bytes));
  const std::string_view payload = bytes.substr(kIndexFileHeaderSize);
  if (header.payload_size != payload.size()) {
    return Status::Corruption("index file: payload is ", payload.size(), " bytes, header says ",
                              header.payload_size);
  }
  if (base::Crc32cUnmask(base::DecodeFixed32(bytes.data() + kPayloadCrcOffset)) !=
      base::Crc32c(payload.data(), payload.size())) {
    return Status::Corruption("index file: payload checksum mismatch");
  }
  std::unique_ptr<VectorIndex> index;
  if (header.type == IndexType::kIvfFlat) {
    TESSERA_ASSIGN_OR_RETURN(index, IvfFlatIndex::FromPayload(header.metric, header.dim, payload));
  } else if (header.type == IndexType::kIvfPq) {
    TESSERA_ASSIGN_OR_RETURN(index, IvfPqIndex::FromPayload(header.metric, header.dim, payload));
  } else {
    TESSERA_ASSIGN_OR_RETURN(
        index, IvfHnswSqIndex::FromPayload(header.type, header.metric, header.dim, payload));
  }
  if (static_cast<uint64_t>(index->num_rows()) != header.num_rows) {
    return Status::Corruption("index file: header says ", header.num_rows, " rows, payload has ",
                              index->num_rows());
  }
  return index;
}

}  // namespace tessera::index
