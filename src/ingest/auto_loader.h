// Streaming ingestion jobs built on the Table API: the directory auto-loader behind
// `tessera ingest --watch` and the JSON-lines reader behind `tessera ingest --stdin`.
// Decisions (exactly-once protocol, completeness rule, quarantine): docs/ingest.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ingest/file_readers.h"
#include "tessera/table.h"

namespace tessera::ingest {

/// Read one input file as a batch of `schema`: columns matched by name (absent nullable columns
/// are null), checked as Table::Add checks them (types, vector dimension, finite vectors, no
/// null in a non-nullable column), so that a file that reads is a file that commits. An fvecs
/// file's `id` column starts at `first_fvecs_id`.
/// Errors: kInvalidArgument / kCorruption naming the problem; kNotFound / kIOError.
Result<RecordBatch> ReadInputFile(const std::string& path, InputFormat format, const Schema& schema,
                                  int64_t first_fvecs_id);

struct AutoLoaderOptions {
  std::string watch_dir;
  /// Input format of every file; unset: from each file's extension.
  std::optional<InputFormat> format;
  /// Time between two scans of the directory; a file is taken once its size and mtime did not
  /// change over one trigger interval.
  double trigger_seconds = 5;
  /// A batch holds whole files up to this many rows (a larger file is a batch of its own).
  int64_t max_rows_per_batch = 100000;
  /// The table stream whose checkpoint records the batches; default "ingest:<watch dir>".
  std::string stream_id;
  /// Where unparseable files go, with a `<name>.reason`; default "<watch dir>/_quarantine".
  std::string quarantine_dir;
  /// Take every file present now (assumed complete), commit, and return.
  bool once = false;
};

struct IngestBatchReport {
  int64_t batch_id = 0;
  std::vector<std::string> files;
  int64_t rows = 0;
  double commit_ms = 0;
  uint64_t version = 0;
  bool recovered = false;  ///< a batch planned by a run that died before committing it
};

struct QuarantineReport {
  std::string file;
  std::string reason;
};

/// Ingests every file that appears in a directory exactly once, in micro-batches, each
/// committed with the stream's checkpoint. One loader per stream at a time.
/// Not thread-safe except Stop().
class AutoLoader {
 public:
  /// `table` is borrowed and must outlive the loader.
  AutoLoader(Table* table, AutoLoaderOptions options);

  /// Finish a batch a previous run planned but did not commit, then scan, batch and commit
  /// until Stop() (or, with `once`, until no file is left). Errors: a planned file that is
  /// missing or changed (kCorruption: exactly-once cannot be kept), storage errors.
  Status Run(const std::function<void(const IngestBatchReport&)>& on_batch,
             const std::function<void(const QuarantineReport&)>& on_quarantine);
  void Stop() { stop_ = true; }

  const std::string& stream_id() const { return options_.stream_id; }
  int64_t files_ingested() const { return static_cast<int64_t>(done_.size()); }

 private:
  struct PlannedFile {
    std::string name;
    int64_t size = 0;
    int64_t mtime_ns = 0;
  };
  Status Recover(const std::function<void(const IngestBatchReport&)>& on_batch);
  Status CompactLedger(int64_t checkpoint, const std::vector<std::string>& plans);
  // Files of the watch directory that are complete and not yet planned, by name.
  Result<std::vector<PlannedFile>> EligibleFiles();
  Status Quarantine(const PlannedFile& file, const std::string& reason,
                    const std::function<void(const QuarantineReport&)>& on_quarantine);
  // Write the plan of batch `batch_id`, then commit `rows` with that batch id.
  Status Commit(int64_t batch_id, const std::vector<PlannedFile>& files,
                const std::vector<RecordBatch>& rows, bool recovered,
                const std::function<void(const IngestBatchReport&)>& on_batch);
  Result<RecordBatch> ReadPlanned(const PlannedFile& file);
  std::string LedgerPath(const std::string& name) const;

  Table* table_;
  AutoLoaderOptions options_;
  std::atomic<bool> stop_{false};
  std::set<std::string> done_;  // files committed by any batch of this stream
  std::map<std::string, std::pair<int64_t, int64_t>> last_seen_;  // name -> (size, mtime)
  std::optional<int64_t> next_fvecs_id_;
  int64_t checkpoint_ = -1;
};

struct StdinIngestOptions {
  double trigger_seconds = 5;  ///< commit at most this long after the first buffered row
  int64_t max_rows_per_batch = 100000;
};

/// Read JSON lines from `fd` until EOF (or `stop`), committing a batch whenever
/// max_rows_per_batch rows are buffered or trigger_seconds passed since the first buffered row,
/// and the rest at EOF. At-least-once: stdin has no offsets to checkpoint (docs/ingest.md).
/// Errors: kInvalidArgument naming the line of a batch that does not parse (nothing of that
/// batch is committed; earlier batches stay).
Status IngestJsonLines(Table* table, int fd, const StdinIngestOptions& options,
                       const std::atomic<bool>& stop,
                       const std::function<void(const IngestBatchReport&)>& on_batch);

}  // namespace tessera::ingest
