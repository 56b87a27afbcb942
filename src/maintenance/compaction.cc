// Compaction (Table::CompactFiles). Plan bins of consecutive small fragments up to the target
// size (and fragments with too many deleted rows), copy each bin's live rows into one new data
// file in bounded batches, and commit the swap. A fragment is rewritten only together with at
// least as many rows as it holds (the bin trims a larger fragment off its ends), so every
// rewrite at least doubles it: a row is copied O(log(target / batch)) times on its way to the
// target size, not once per run (a stream's growing fragment merged with each run's new small
// ones would copy the whole table every run). Row ids never change, so index segments and
// concurrent deletes stay valid; deleted rows that are dropped ("materialized") leave the
// deletion state, which is consolidated into one file.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "base/uuid.h"
#include "table/table_store.h"
#include "tessera/table.h"

namespace tessera {
namespace {

struct Bin {
  std::vector<int> fragments;  // indices into the snapshot's fragment list
  int64_t live_rows = 0;
  int64_t deleted_rows = 0;
  std::vector<int64_t> live;      // per fragment
  std::vector<bool> materialize;  // per fragment: rewritten anyway to drop deleted rows
  std::vector<int64_t> deleted;   // per fragment, counted if materialize
};

// Drop from the ends of `bin` a fragment that holds more live rows than the rest of the bin
// and needs no materialization, until none does.
void TrimLargeEnds(Bin* bin) {
  while (bin->fragments.size() >= 2) {
    const size_t last = bin->fragments.size() - 1;
    size_t drop = last + 1;
    if (!bin->materialize[0] && bin->live[0] > bin->live_rows - bin->live[0]) {
      drop = 0;
    } else if (!bin->materialize[last] && bin->live[last] > bin->live_rows - bin->live[last]) {
      drop = last;
    }
    if (drop > last) return;
    bin->live_rows -= bin->live[drop];
    bin->deleted_rows -= bin->deleted[drop];
    bin->fragments.erase(bin->fragments.begin() + static_cast<std::ptrdiff_t>(drop));
    bin->live.erase(bin->live.begin() + static_cast<std::ptrdiff_t>(drop));
    bin->materialize.erase(bin->materialize.begin() + static_cast<std::ptrdiff_t>(drop));
    bin->deleted.erase(bin->deleted.begin() + static_cast<std::ptrdiff_t>(drop));
  }
}

int64_t DeletedIn(const format::FragmentMeta& fragment, const table::Snapshot& snapshot) {
  if (snapshot.deleted().isEmpty()) return 0;
  int64_t deleted = 0;
  for (const auto& range : fragment.row_ids) {
    for (uint64_t id = range.start; id < range.end; ++id) deleted += snapshot.IsDeleted(id) ? 1 : 0;
  }
  return deleted;
}

std::vector<Bin> PlanBins(const table::Snapshot& snapshot, const CompactionOptions& options) {
  std::vector<Bin> bins;
  Bin current;
  int64_t planned_rows = 0;
  const auto flush = [&]() {
    TrimLargeEnds(&current);
    // A single fragment is rewritten only to drop its deleted rows.
    if (current.fragments.size() >= 2 ||
        (current.fragments.size() == 1 && current.deleted_rows > 0)) {
      planned_rows += current.live_rows;
      bins.push_back(current);
    }
    current = Bin();
  };
  const auto& fragments = snapshot.manifest().fragments;
  for (size_t f = 0; f < fragments.size(); ++f) {
    if (options.max_rows_per_pass >= 0 && planned_rows >= options.max_rows_per_pass) break;
    const int64_t deleted = DeletedIn(fragments[f], snapshot);
    const int64_t live = fragments[f].num_rows - deleted;
    const bool materialize =
        fragments[f].num_rows > 0 &&
        static_cast<double>(deleted) / static_cast<double>(fragments[f].num_rows) >
            options.materialize_deletions_threshold;
    const bool small = live < options.target_rows_per_fragment;
    if (!small && !materialize) {  // at target size: never rewritten again
      flush();
      continue;
    }
    if (!small) {  // big, but too many deleted rows: rewrite on its own
      flush();
      current.fragments = {static_cast<int>(f)};
      current.live_rows = live;
      current.deleted_rows = deleted;
      current.live = {live};
      current.materialize = {true};
      current.deleted = {deleted};
      flush();
      continue;
    }
    if (!current.fragments.empty() && current.live_rows + live > options.target_rows_per_fragment) {
      flush();
    }
    current.fragments.push_back(static_cast<int>(f));
    current.live_rows += live;
    current.deleted_rows += materialize ? deleted : 0;
    current.live.push_back(live);
    current.materialize.push_back(materialize);
    current.deleted.push_back(materialize ? deleted : 0);
  }
  flush();
  return bins;
}

}  // namespace

Result<CompactionResult> Table::CompactFiles(const CompactionOptions& options) {
  if (read_only())
    return Status::InvalidArgument("table is checked out read-only at an old version");
  if (options.target_rows_per_fragment < 1 || options.batch_rows < 1 ||
      options.materialize_deletions_threshold < 0 || options.materialize_deletions_threshold > 1) {
    return Status::InvalidArgument(
        "compaction: target_rows_per_fragment and batch_rows must be >= 1 and "
        "materialize_deletions_threshold within [0, 1]");
  }
  const auto start = std::chrono::steady_clock::now();
  const int64_t started_us = ::tessera::base::NowMicros();
  TESSERA_ASSIGN_OR_RETURN(auto snapshot, CurrentSnapshot());
  table::TableStore* store = internal_store();
  const std::vector<Bin> bins = PlanBins(*snapshot, options);
  CompactionResult result;
  if (bins.empty()) return result;

  struct Rewritten {
    const Bin* bin;
    format::FragmentMeta fragment;  // without id
  };
  std::vector<Rewritten> rewritten;
  format::RowIdSet materialized;  // deleted rows dropped by the rewrite
  const Schema& schema = snapshot->schema();
  for (const Bin& bin : bins) {
    std::vector<format::RowIdRange> ranges;
    size_t bin_pos = 0;
    RecordBatch current;
    std::vector<uint64_t> ids;
    int64_t row = 0;
    // Yield the bin's live rows in row-id order, at most batch_rows at a time.
    auto next = [&]() -> Result<std::optional<RecordBatch>> {
      std::vector<int64_t> take;
      RecordBatchBuilder builder(schema);
      int64_t produced = 0;
      while (produced < options.batch_rows) {
        if (row >= current.num_rows()) {
          if (bin_pos >= bin.fragments.size()) break;
          const auto& meta = snapshot->manifest().fragments[bin.fragments[bin_pos++]];
          TESSERA_ASSIGN_OR_RETURN(current, store->ReadFragment(meta));
          ids = table::ExpandRowIds(meta);
          row = 0;
          continue;
        }
        const uint64_t id = ids[row];
        if (snapshot->IsDeleted(id)) {
          materialized.add(id);
        } else {
          for (int col = 0; col < current.num_columns(); ++col) {
            builder.column(col).AppendFrom(current.column(col), row);
          }
          if (!ranges.empty() && ranges.back().end == id) {
            ++ranges.back().end;
          } else {
            ranges.push_back({id, id + 1});
          }
          ++produced;
        }
        ++row;
      }
      if (produced == 0) return std::optional<RecordBatch>();
      TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, builder.Finish());
      return std::optional<RecordBatch>(std::move(batch));
    };
    TESSERA_ASSIGN_OR_RETURN(format::FragmentMeta fragment,
                             store->WriteFragmentBatches(schema, next));
    fragment.row_ids = std::move(ranges);
    result.rows_rewritten += fragment.num_rows;
    result.bytes_written += fragment.size_bytes;
    result.fragments_removed += static_cast<int64_t>(bin.fragments.size());
    rewritten.push_back({&bin, std::move(fragment)});
  }
  result.fragments_added = 0;
  for (const auto& r : rewritten) result.fragments_added += r.fragment.num_rows > 0 ? 1 : 0;
  result.deleted_rows_materialized = static_cast<int64_t>(materialized.cardinality());

  format::TransactionMeta txn;
  txn.operation = "compact";
  txn.duration_us = ::tessera::base::NowMicros() - started_us;
  txn.detail = nlohmann::json{{"fragments_removed", result.fragments_removed},
                              {"fragments_added", result.fragments_added},
                              {"rows_rewritten", result.rows_rewritten},
                              {"deleted_rows_materialized", result.deleted_rows_materialized}}
                   .dump();
  auto build = [&](const table::Snapshot* latest,
                   std::span<const format::TransactionMeta>) -> Result<format::Manifest> {
    format::Manifest next = latest->manifest();
    next.transaction = {};
    std::vector<format::FragmentMeta> fragments;
    for (const format::FragmentMeta& fragment : next.fragments) {
      bool replaced = false;
      for (const Rewritten& r : rewritten) {
        const auto& first = snapshot->manifest().fragments[r.bin->fragments.front()];
        for (int f : r.bin->fragments) {
          if (snapshot->manifest().fragments[f].id != fragment.id) continue;
          replaced = true;
          // The new fragment takes the place of its bin's first fragment (row-id order).
          if (fragment.id == first.id && r.fragment.num_rows > 0) {
            format::FragmentMeta added = r.fragment;
            added.id = next.next_fragment_id++;
            fragments.push_back(std::move(added));
          }
        }
      }
      if (!replaced) fragments.push_back(fragment);
    }
    // Every fragment we rewrote must still be there: else another compaction (or a restore)
    // won, and swapping would lose or duplicate rows.
    size_t expected_removed = 0;
    for (const Rewritten& r : rewritten) expected_removed += r.bin->fragments.size();
    size_t present = 0;
    for (const Rewritten& r : rewritten) {
      for (int f : r.bin->fragments) {
        const uint64_t id = snapshot->manifest().fragments[f].id;
        present += std::count_if(next.fragments.begin(), next.fragments.end(),
                                 [&](const format::FragmentMeta& m) { return m.id == id; });
      }
    }
    if (present != expected_removed) {
      return Status::Conflict("compaction: fragments were rewritten concurrently; retry");
    }
    // Rows we dropped as deleted must still be deleted (a restore may have revived them).
    format::RowIdSet revived = materialized;
    revived -= latest->deleted();
    if (!revived.isEmpty()) {
      return Status::Conflict("compaction: deleted rows were restored concurrently; retry");
    }
    next.fragments = std::move(fragments);
    if (!materialized.isEmpty()) {
      // Drop the materialized ids from the deletion state: one consolidated deletion file.
      format::RowIdSet remaining = latest->deleted();
      remaining -= materialized;
      next.deletion_files.clear();
      if (!remaining.isEmpty()) {
        TESSERA_ASSIGN_OR_RETURN(format::DeletionFileMeta file,
                                 store->WriteDeletionFile(remaining));
        next.deletion_files.push_back(std::move(file));
      }
    }
    return next;
  };
  TESSERA_ASSIGN_OR_RETURN(auto committed, store->Commit(snapshot, txn, build));
  result.version = committed.version;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace tessera
