#include "table/key_index.h"

#include <algorithm>
#include <cstring>
#include <list>
#include <mutex>
#include <unordered_map>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/lru_cache.h"
#include "base/uuid.h"
#include "io/file_system.h"
#include "table/snapshot.h"
#include "table/table_store.h"

namespace tessera::table {
namespace {

constexpr char kMagic[4] = {'T', 'S', 'K', 'X'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderSize = 32;  // magic, version, num_rows, keys_bytes, payload/header crc

// Loaded key segments (immutable files), shared by every table handle of the process.
base::LruCache<std::shared_ptr<const KeyIndex>>& KeyIndexCache() {
  static auto* cache =  // never destroyed: used at exit
      new base::LruCache<std::shared_ptr<const KeyIndex>>(size_t{1} << 30);
  return *cache;
}

}  // namespace

bool IsScalarIndexType(std::string_view type) { return type == kKeyIndexType; }

Status AppendKeyPart(const Array& column, int64_t row, std::string* out) {
  if (column.IsNull(row)) return Status::InvalidArgument("null key");
  switch (column.type().id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kTimestamp: {
      const int64_t value = column.IntegerAt(row);
      out->push_back('i');
      out->append(reinterpret_cast<const char*>(&value), sizeof(value));
      return Status::OK();
    }
    case TypeId::kBool:
      out->push_back(column.Bool(row) ? 'T' : 'F');
      return Status::OK();
    case TypeId::kUtf8: {
      const std::string_view text = column.String(row);
      const uint64_t size = text.size();
      out->push_back('s');
      out->append(reinterpret_cast<const char*>(&size), sizeof(size));
      out->append(text);
      return Status::OK();
    }
    default:
      return Status::InvalidArgument("key column type ", column.type().ToString(),
                                     " is not supported (int32, int64, utf8, timestamp, bool)");
  }
}

KeyIndex KeyIndex::Build(std::vector<std::pair<std::string, uint64_t>> entries) {
  std::sort(entries.begin(), entries.end());
  KeyIndex index;
  index.offsets_.reserve(entries.size() + 1);
  index.row_ids_.reserve(entries.size());
  for (auto& [key, row_id] : entries) {
    index.keys_ += key;
    index.offsets_.push_back(index.keys_.size());
    index.row_ids_.push_back(row_id);
  }
  return index;
}

std::string KeyIndex::Serialize() const {
  std::string payload;
  payload.reserve((offsets_.size() + row_ids_.size()) * 8 + keys_.size());
  for (uint64_t offset : offsets_) base::PutFixed64(&payload, offset);
  for (uint64_t row_id : row_ids_) base::PutFixed64(&payload, row_id);
  payload += keys_;
  std::string out(kHeaderSize, '\0');
  std::memcpy(out.data(), kMagic, 4);
  base::EncodeFixed32(out.data() + 4, kFormatVersion);
  base::EncodeFixed64(out.data() + 8, row_ids_.size());
  base::EncodeFixed64(out.data() + 16, keys_.size());
  base::EncodeFixed32(out.data() + 24,
                      base::Crc32cMask(base::Crc32c(payload.data(), payload.size())));
  base::EncodeFixed32(out.data() + 28, base::Crc32cMask(base::Crc32c(out.data(), 28)));
  out += payload;
  return out;
}

Result<KeyIndex> KeyIndex::Deserialize(std::string_view bytes) {
  if (bytes.size() < kHeaderSize) return Status::Corruption("key index: shorter than its header");
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) return Status::Corruption("key index: bad magic");
  if (base::Crc32cUnmask(base::DecodeFixed32(bytes.data() + 28)) !=
      base::Crc32c(bytes.data(), 28)) {
    return Status::Corruption("key index: header checksum mismatch");
  }
  const uint32_t version = base::DecodeFixed32(bytes.data() + 4);
  if (version != kFormatVersion) {
    return Status::NotSupported("key index: format version ", version, " (this build reads ",
                                kFormatVersion, ")");
  }
  const uint64_t num_rows = base::DecodeFixed64(bytes.data() + 8);
  const uint64_t keys_bytes = base::DecodeFixed64(bytes.data() + 16);
  const std::string_view payload = bytes.substr(kHeaderSize);
  if (num_rows > payload.size() / 16 || keys_bytes != payload.size() - (2 * num_rows + 1) * 8) {
    return Status::Corruption("key index: sizes disagree with the file size");
  }
  if (base::Crc32cUnmask(base::DecodeFixed32(bytes.data() + 24)) !=
      base::Crc32c(payload.data(), payload.size())) {
    return Status::Corruption("key index: payload checksum mismatch");
  }
  KeyIndex index;
  index.offsets_.resize(num_rows + 1);
  index.row_ids_.resize(num_rows);
  const char* at = payload.data();
  for (uint64_t i = 0; i <= num_rows; ++i, at += 8) index.offsets_[i] = base::DecodeFixed64(at);
  for (uint64_t i = 0; i < num_rows; ++i, at += 8) index.row_ids_[i] = base::DecodeFixed64(at);
  index.keys_.assign(at, keys_bytes);
  if (index.offsets_.front() != 0 || index.offsets_.back() != keys_bytes) {
    return Status::Corruption("key index: bad key offsets");
  }
  for (uint64_t i = 0; i < num_rows; ++i) {
    if (index.offsets_[i + 1] < index.offsets_[i]) {
      return Status::Corruption("key index: bad key offsets");
    }
    if (i > 0 && index.KeyAt(i) < index.KeyAt(i - 1)) {
      return Status::Corruption("key index: keys out of order");
    }
  }
  return index;
}

void KeyIndex::Lookup(std::string_view key, std::vector<uint64_t>* row_ids) const {
  size_t lo = 0;
  size_t hi = row_ids_.size();
  while (lo < hi) {  // first position whose key is >= `key`
    const size_t mid = lo + (hi - lo) / 2;
    if (KeyAt(mid) < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  for (; lo < row_ids_.size() && KeyAt(lo) == key; ++lo) row_ids->push_back(row_ids_[lo]);
}

std::vector<format::RowIdRange> SubtractRanges(const std::vector<format::RowIdRange>& ranges,
                                               const std::vector<format::RowIdRange>& covered) {
  std::vector<format::RowIdRange> out;
  for (const format::RowIdRange& range : ranges) {
    uint64_t cursor = range.start;
    auto it = std::upper_bound(covered.begin(), covered.end(), range.start,
                               [](uint64_t id, const format::RowIdRange& r) { return id < r.end; });
    for (; it != covered.end() && it->start < range.end && cursor < range.end; ++it) {
      if (it->start > cursor) out.push_back({cursor, std::min(it->start, range.end)});
      cursor = std::max(cursor, it->end);
    }
    if (cursor < range.end) out.push_back({cursor, range.end});
  }
  std::sort(out.begin(), out.end(), [](const format::RowIdRange& a, const format::RowIdRange& b) {
    return a.start < b.start;
  });
  return out;
}

std::vector<format::RowIdRange> MergedCoverage(
    const std::vector<const format::IndexSegmentMeta*>& segments) {
  std::vector<format::RowIdRange> all;
  for (const auto* segment : segments) {
    all.insert(all.end(), segment->covered.begin(), segment->covered.end());
  }
  std::sort(all.begin(), all.end(), [](const format::RowIdRange& a, const format::RowIdRange& b) {
    return a.start < b.start;
  });
  std::vector<format::RowIdRange> merged;
  for (const format::RowIdRange& range : all) {
    if (range.start >= range.end) continue;
    if (!merged.empty() && range.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, range.end);
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

Result<KeyIndex> BuildKeyIndex(TableStore* store, const Snapshot& snapshot, int column_index,
                               const std::vector<format::RowIdRange>* exclude,
                               std::vector<format::RowIdRange>* covered) {
  std::vector<std::pair<std::string, uint64_t>> entries;
  covered->clear();
  for (const format::FragmentMeta& fragment : snapshot.manifest().fragments) {
    // (piece of a row-id range, row index of its first id in the fragment)
    std::vector<std::pair<format::RowIdRange, int64_t>> pieces;
    int64_t row_idx = 0;
    for (const format::RowIdRange& range : fragment.row_ids) {
      const std::vector<format::RowIdRange> wanted = exclude == nullptr
                                                         ? std::vector<format::RowIdRange>{range}
                                                         : SubtractRanges({range}, *exclude);
      for (const format::RowIdRange& piece : wanted) {
        pieces.push_back({piece, row_idx + static_cast<int64_t>(piece.start - range.start)});
      }
      row_idx += static_cast<int64_t>(range.end - range.start);
    }
    if (pieces.empty()) continue;
    TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, store->ReadFragment(fragment));
    const Array& column = batch.column(column_index);
    for (const auto& [piece, first_row] : pieces) {
      covered->push_back(piece);
      for (uint64_t id = piece.start; id < piece.end; ++id) {
        const int64_t row = first_row + static_cast<int64_t>(id - piece.start);
        if (snapshot.IsDeleted(id) || column.IsNull(row)) continue;
        std::string key;
        TESSERA_RETURN_IF_ERROR(AppendKeyPart(column, row, &key));
        entries.emplace_back(std::move(key), id);
      }
    }
  }
  std::sort(
      covered->begin(), covered->end(),
      [](const format::RowIdRange& a, const format::RowIdRange& b) { return a.start < b.start; });
  return KeyIndex::Build(std::move(entries));
}

Result<format::IndexSegmentMeta> WriteKeyIndex(TableStore* store, const KeyIndex& index) {
  format::IndexSegmentMeta meta;
  const std::string dir = "indices/" + base::NewUuid();
  meta.path = dir + "/keys.idx";
  TESSERA_RETURN_IF_ERROR(store->fs()->CreateDirs(store->Path(dir)));
  Status st = io::WriteFileDurably(store->fs(), store->Path(meta.path), index.Serialize());
  if (st.ok()) st = store->fs()->SyncDir(store->Path(dir));
  if (st.ok()) st = store->fs()->SyncDir(store->Path("indices"));
  if (!st.ok()) return st.WithContext("writing key index segment ", meta.path);
  meta.num_rows = index.num_rows();
  return meta;
}

Result<std::shared_ptr<const KeyIndex>> LoadKeyIndex(TableStore* store,
                                                     const format::IndexSegmentMeta& meta) {
  const std::string path = store->Path(meta.path);
  if (auto cached = KeyIndexCache().Get(path)) return *cached;
  TESSERA_ASSIGN_OR_RETURN(std::string bytes, store->fs()->ReadFile(path));
  auto decoded = KeyIndex::Deserialize(bytes);
  if (!decoded.ok()) return decoded.status().WithContext("key index segment ", meta.path);
  auto shared = std::make_shared<const KeyIndex>(std::move(decoded).value());
  KeyIndexCache().Put(path, shared, shared->memory_bytes());
  return std::shared_ptr<const KeyIndex>(std::move(shared));
}

}  // namespace tessera::table
