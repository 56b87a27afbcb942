// Filter: the `where` language of delete, count, scan and search (grammar and
// semantics: docs/filter.md).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "format/manifest.h"
#include "tessera/record_batch.h"
#include "tessera/result.h"
#include "tessera/schema.h"

namespace tessera::expr {

namespace internal {
struct Node;
}  // namespace internal

// A parsed, type-checked filter over the columns of one schema.
// Immutable and thread-safe: any number of threads may call any method at once.
// Cheap to copy: copies share one immutable syntax tree.
class Filter {
 public:
  // Parse `text` against `schema` (not retained). Errors: kInvalidArgument with a message
  // "filter: <problem> at position N", N the 1-based character position, e.g.
  // "filter: unknown column 'prise' at position 1", "filter: expected ')' at position 17",
  // "filter: cannot compare int64 column 'id' with string 'abc' at position 6";
  // "filter: empty filter" for blank text.
  static Result<Filter> Parse(std::string_view text, const Schema& schema);

  // Evaluate the filter on every row of `batch`, whose columns are looked up by name
  // (the batch may hold any subset of the schema's columns in any order). Return one
  // byte per row, 1 if the row passes (the condition is TRUE) and 0 if it is FALSE or
  // unknown (SQL three-valued logic). Errors: kInvalidArgument if a column the filter
  // reads is missing from the batch or has another type than in the schema.
  Result<std::vector<uint8_t>> Evaluate(const RecordBatch& batch) const;

  // Return false only if no row of a fragment with `num_rows` rows and these statistics
  // can pass. `stats` are matched by ColumnStats::field_index (index in the schema);
  // a column without stats may hold anything. REQUIRES: min <= every non-null non-NaN
  // value <= max, and null_count is exact.
  bool MayMatch(std::span<const format::ColumnStats> stats, int64_t num_rows) const;

  // Return the names of the columns the filter reads, in order of first appearance.
  const std::vector<std::string>& columns() const;

  // Return the normalized text: keywords upper case, the column on the left of every
  // comparison, minimal parentheses. Parse() of it yields an equivalent filter.
  std::string ToString() const;

 private:
  struct State;
  explicit Filter(std::shared_ptr<const State> state) : state_(std::move(state)) {}

  // Shared because copies of a Filter share one immutable tree (cheap to copy).
  std::shared_ptr<const State> state_;
};

}  // namespace tessera::expr
