#include "format/deletion_file.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/coding.h"
#include "format/file_frame_internal.h"

namespace tessera::format {
namespace {

// Framing constants and limits; layout in docs/format/deletion_file.md.
constexpr std::string_view kDeletionFileMagic = "TSDL";
constexpr uint32_t kDeletionFileFormatVersion = 1;
// Runs may span at most this many 65536-row-id blocks beyond their first, which bounds the
// memory a short file can make the decoder allocate (at the limit ~170 MB and 0.5 s).
constexpr uint64_t kMaxExtraBlocks = uint64_t{1} << 20;

constexpr uint64_t kLow32Limit = uint64_t{1} << 32;  // exclusive bound of a 32-bit bitmap

// Row ids [first, last], both inclusive so that a run may end at UINT64_MAX.
struct Run {
  uint64_t first = 0;
  uint64_t last = 0;
};

// Return the 32-bit bitmaps of `row_ids` with their high 32 bits, in increasing order.
// Roaring64Map in this CRoaring version has no public per-bitmap access, so the bitmaps
// are recovered from its own serialization (trusted bytes produced just before).
std::vector<std::pair<uint32_t, ::Roaring>> SplitByHighBits(const RowIdSet& row_ids) {
  const size_t size = row_ids.getSizeInBytes(/*portable=*/true);
  std::vector<uint64_t> aligned((size + 7) / 8);
  char* buf = reinterpret_cast<char*>(aligned.data());
  row_ids.write(buf, /*portable=*/true);
  uint64_t num_bitmaps = 0;
  std::memcpy(&num_bitmaps, buf, sizeof(num_bitmaps));  // native order, as write() stores it
  size_t offset = sizeof(num_bitmaps);
  std::vector<std::pair<uint32_t, ::Roaring>> out;
  out.reserve(num_bitmaps);
  for (uint64_t idx = 0; idx < num_bitmaps; ++idx) {
    uint32_t high = 0;
    std::memcpy(&high, buf + offset, sizeof(high));
    offset += sizeof(high);
    ::Roaring bitmap = ::Roaring::readSafe(buf + offset, size - offset);
    offset += bitmap.getSizeInBytes(/*portable=*/true);
    out.emplace_back(high, std::move(bitmap));
  }
  return out;
}

// Return the largest `last` such that [first, last] is in `bitmap`. REQUIRES: first is in
// bitmap. Every containsRange() probe stays inside one 65536-value container.
uint64_t RunEnd(const ::Roaring& bitmap, uint64_t first) {
  uint64_t good = first;  // [first, good] is in the bitmap
  while (true) {
    const uint64_t block_last = good | 0xffff;
    if (good == (block_last & ~uint64_t{0xffff}) && bitmap.containsRange(good, block_last + 1)) {
      good = block_last;  // a full block
    } else {
      // Gallop, then bisect, for the end of the run inside this block.
      const uint64_t block_first = good;
      uint64_t bad = block_last + 1;  // first value known absent, or the block end
      uint64_t step = 1;
      bool galloping = true;
      while (good + 1 < bad) {
        const uint64_t probe = galloping ? std::min(good + step, bad - 1) : good + (bad - good) / 2;
        if (bitmap.containsRange(block_first, probe + 1)) {
          good = probe;
          step <<= 1;
        } else {
          bad = probe;
          galloping = false;
        }
      }
    }
    if (good != block_last || good + 1 == kLow32Limit ||
        !bitmap.contains(static_cast<uint32_t>(good + 1))) {
      return good;
    }
    ++good;
  }
}

// Return the maximal runs of `row_ids` in increasing order (disjoint and non-adjacent).
std::vector<Run> ExtractRuns(const RowIdSet& row_ids) {
  std::vector<Run> runs;
  for (const auto& [high, bitmap] : SplitByHighBits(row_ids)) {
    const uint64_t base = uint64_t{high} << 32;
    ::RoaringSetBitForwardIterator it(bitmap);
    while (it.i.has_value) {
      const uint64_t first = *it;
      const uint64_t last = RunEnd(bitmap, first);
      if (!runs.empty() && runs.back().last + 1 == base + first && first == 0) {
        runs.back().last = base + last;  // continues a run from the previous bitmap
      } else {
        runs.push_back(Run{base + first, base + last});
      }
      if (last + 1 == kLow32Limit) break;
      it.equalorlarger(static_cast<uint32_t>(last + 1));
    }
  }
  return runs;
}

// Return the bitmap holding `runs`. REQUIRES: runs sorted, disjoint, non-adjacent.
RowIdSet BuildBitmap(const std::vector<Run>& runs) {
  // Build each 32-bit bitmap with addRange (run containers), then assemble the 64-bit map
  // from its own serialization, the only public way to place a bitmap at a high key. Each
  // 32-bit bitmap is serialized and freed before the next is built to bound peak memory.
  std::string buf(sizeof(uint64_t), '\0');  // the bitmap count, filled in at the end
  uint64_t num_bitmaps = 0;
  uint32_t high = 0;
  ::Roaring bitmap;
  auto flush = [&] {
    if (bitmap.isEmpty()) return;
    buf.append(reinterpret_cast<const char*>(&high), sizeof(high));
    const size_t offset = buf.size();
    buf.resize(offset + bitmap.getSizeInBytes(/*portable=*/true));
    buf.resize(offset + bitmap.write(buf.data() + offset, /*portable=*/true));
    ++num_bitmaps;
    bitmap = ::Roaring();
  };
  for (const Run& run : runs) {
    uint64_t first = run.first;
    while (true) {
      const auto piece_high = static_cast<uint32_t>(first >> 32);
      const uint64_t base = uint64_t{piece_high} << 32;
      const uint64_t piece_last = std::min(run.last, base | 0xffffffffu);
      if (piece_high != high) {
        flush();
        high = piece_high;
      }
      bitmap.addRange(first - base, piece_last - base + 1);
      if (piece_last == run.last) break;
      first = piece_last + 1;
    }
  }
  flush();
  std::memcpy(buf.data(), &num_bitmaps, sizeof(num_bitmaps));  // native order, as read() wants
  std::vector<uint64_t> aligned((buf.size() + 7) / 8);
  std::memcpy(aligned.data(), buf.data(), buf.size());
  buf = std::string();
  return ::Roaring64Map::read(reinterpret_cast<const char*>(aligned.data()),
                              /*portable=*/true);
}

Result<std::vector<Run>> ParseRuns(std::string_view payload) {
  uint64_t cardinality = 0;
  uint64_t num_runs = 0;
  if (!base::GetVarint64(&payload, &cardinality) || !base::GetVarint64(&payload, &num_runs)) {
    return Status::Corruption("bad varint in the run count");
  }
  // Each run takes at least two bytes.
  if (num_runs > payload.size() / 2) {
    return Status::Corruption(num_runs, " runs cannot fit in ", payload.size(), " bytes");
  }
  std::vector<Run> runs;
  runs.reserve(num_runs);
  uint64_t total = 0;
  uint64_t extra_blocks = 0;
  for (uint64_t idx = 0; idx < num_runs; ++idx) {
    uint64_t gap = 0;
    uint64_t length_minus_one = 0;
    if (!base::GetVarint64(&payload, &gap) || !base::GetVarint64(&payload, &length_minus_one)) {
      return Status::Corruption("bad varint in run ", idx);
    }
    Run run;
    if (runs.empty()) {
      run.first = gap;
    } else {
      // Runs are non-adjacent: at least one absent row id lies between two runs.
      const uint64_t prev_last = runs.back().last;
      if (prev_last >= UINT64_MAX - 1 || gap > UINT64_MAX - (prev_last + 2)) {
        return Status::Corruption("run ", idx, " starts beyond the largest row id");
      }
      run.first = prev_last + 2 + gap;
    }
    if (length_minus_one > UINT64_MAX - run.first) {
      return Status::Corruption("run ", idx, " ends beyond the largest row id");
    }
    run.last = run.first + length_minus_one;
    extra_blocks += (run.last >> 16) - (run.first >> 16);
    if (extra_blocks > kMaxExtraBlocks) {
      return Status::Corruption("runs span more than ", kMaxExtraBlocks,
                                " extra 65536-row-id blocks, the decoder's limit");
    }
    // Cannot overflow: the block limit bounds every run, and num_runs is bounded by the size.
    total += length_minus_one + 1;
    runs.push_back(run);
  }
  if (!payload.empty()) return Status::Corruption(payload.size(), " trailing bytes after the runs");
  if (total != cardinality) {
    return Status::Corruption("runs hold ", total, " row ids but the header says ", cardinality);
  }
  return runs;
}

}  // namespace

std::string EncodeDeletionFile(const RowIdSet& row_ids) {
  const std::vector<Run> runs = ExtractRuns(row_ids);
  uint64_t cardinality = 0;
  for (const Run& run : runs) cardinality += run.last - run.first + 1;
  std::string payload;
  base::PutVarint64(&payload, cardinality);
  base::PutVarint64(&payload, runs.size());
  for (size_t idx = 0; idx < runs.size(); ++idx) {
    const uint64_t gap = idx == 0 ? runs[idx].first : runs[idx].first - runs[idx - 1].last - 2;
    base::PutVarint64(&payload, gap);
    base::PutVarint64(&payload, runs[idx].last - runs[idx].first);
  }
  return internal::FramePayload(kDeletionFileMagic, kDeletionFileFormatVersion, payload);
}

Result<RowIdSet> DecodeDeletionFile(std::string_view bytes) {
  TESSERA_ASSIGN_OR_RETURN(std::string_view payload,
                           internal::UnframePayload(bytes, kDeletionFileMagic,
                                                    kDeletionFileFormatVersion, "deletion file"));
  Result<std::vector<Run>> runs = ParseRuns(payload);
  if (!runs.ok()) return runs.status().WithContext("deletion file");
  return BuildBitmap(*runs);
}

}  // namespace tessera::format
