// PartitionLists: the storage of an IVF index apart from its search algorithm. The rows of
// partition p are slots [offsets[p], offsets[p+1]); each slot holds a stable row id and a code
// of code_size() elements of CodeT (float for IVF_FLAT, uint8_t SQ8 codes otherwise).
// Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/result.h"

namespace tessera::index {

template <typename CodeT>
class PartitionLists {
 public:
  PartitionLists() = default;

  // Group rows by `assignment` (partition of each row, in [0, num_partitions)). Writes to
  // *slot_rows the input row index of every slot; codes are left zero for the caller to fill.
  static PartitionLists Group(std::span<const int32_t> assignment, int32_t num_partitions,
                              std::span<const uint64_t> row_ids, size_t code_size,
                              std::vector<int64_t>* slot_rows) {
    PartitionLists lists;
    lists.code_size_ = code_size;
    lists.offsets_.assign(static_cast<size_t>(num_partitions) + 1, 0);
    for (int32_t partition : assignment) ++lists.offsets_[partition + 1];
    for (int32_t p = 0; p < num_partitions; ++p) lists.offsets_[p + 1] += lists.offsets_[p];
    std::vector<uint64_t> next(lists.offsets_.begin(), lists.offsets_.end() - 1);
    slot_rows->resize(assignment.size());
    lists.row_ids_.resize(assignment.size());
    for (size_t row = 0; row < assignment.size(); ++row) {
      const uint64_t slot = next[assignment[row]]++;
      (*slot_rows)[slot] = static_cast<int64_t>(row);
      lists.row_ids_[slot] = row_ids[row];
    }
    lists.codes_.assign(assignment.size() * code_size, CodeT{});
    return lists;
  }

  // Rebuild from serialized arrays. Errors: kCorruption if the sizes or offsets disagree.
  static Result<PartitionLists> FromArrays(size_t code_size, std::vector<uint64_t> offsets,
                                           std::vector<uint64_t> row_ids,
                                           std::vector<CodeT> codes) {
    if (offsets.empty() || offsets.front() != 0 || offsets.back() != row_ids.size() ||
        codes.size() != row_ids.size() * code_size) {
      return Status::Corruption("partition lists: sizes disagree");
    }
    for (size_t p = 1; p < offsets.size(); ++p) {
      if (offsets[p] < offsets[p - 1]) return Status::Corruption("partition lists: bad offsets");
    }
    PartitionLists lists;
    lists.code_size_ = code_size;
    lists.offsets_ = std::move(offsets);
    lists.row_ids_ = std::move(row_ids);
    lists.codes_ = std::move(codes);
    return lists;
  }

  int32_t num_partitions() const { return static_cast<int32_t>(offsets_.size()) - 1; }
  size_t code_size() const { return code_size_; }
  int64_t num_rows() const { return static_cast<int64_t>(row_ids_.size()); }
  int64_t partition_size(int32_t p) const {
    return static_cast<int64_t>(offsets_[p + 1] - offsets_[p]);
  }
  const uint64_t* row_ids(int32_t p) const { return row_ids_.data() + offsets_[p]; }
  const CodeT* codes(int32_t p) const { return codes_.data() + offsets_[p] * code_size_; }
  CodeT* mutable_slot_code(int64_t slot) { return codes_.data() + slot * code_size_; }

  const std::vector<uint64_t>& offsets() const { return offsets_; }
  const std::vector<uint64_t>& all_row_ids() const { return row_ids_; }
  const std::vector<CodeT>& all_codes() const { return codes_; }
  size_t memory_bytes() const {
    return (offsets_.size() + row_ids_.size()) * sizeof(uint64_t) + codes_.size() * sizeof(CodeT);
  }

 private:
  size_t code_size_ = 0;
  std::vector<uint64_t> offsets_;  // num_partitions + 1
  std::vector<uint64_t> row_ids_;
  std::vector<CodeT> codes_;
};

}  // namespace tessera::index
