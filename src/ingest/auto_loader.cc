#include "ingest/auto_loader.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "format/arrow_ipc_reader.h"
#include "io/file_system.h"
#include "table/table_store.h"

namespace tessera::ingest {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr char kLedgerDir[] = "_ingest";
// Plans of committed batches are folded into one "done" file once there are this many.
constexpr size_t kPlansBeforeCompaction = 256;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A directory name for a stream id: kept when it is plain, hex-encoded otherwise.
std::string StreamDirName(const std::string& stream_id) {
  const bool plain = !stream_id.empty() && stream_id.size() <= 64 &&
                     std::all_of(stream_id.begin(), stream_id.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                     });
  if (plain) return stream_id;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "x";
  for (unsigned char c : stream_id) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out.substr(0, 200);
}

std::string PlanName(int64_t batch_id) {
  char name[40];
  std::snprintf(name, sizeof(name), "%020lld.plan", static_cast<long long>(batch_id));
  return name;
}

// Return the batch id of "<020d>.plan" / "done-<020d>.json" names, or -1.
int64_t IdOf(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return -1;
  name.remove_prefix(prefix.size());
  name.remove_suffix(suffix.size());
  int64_t id = -1;
  if (std::from_chars(name.data(), name.data() + name.size(), id).ec != std::errc()) return -1;
  return id;
}

// Ignored names: hidden, underscore-prefixed (the quarantine), temporary.
bool Ignored(const std::string& name) {
  return name.empty() || name[0] == '.' || name[0] == '_' || name.ends_with(".tmp") ||
         name.ends_with(".partial") || name.ends_with(".reason");
}

Result<RecordBatch> ConformToSchema(const RecordBatch& batch, const Schema& schema) {
  for (const Field& field : batch.schema().fields()) {
    if (schema.FieldIndex(field.name) < 0) {
      return Status::InvalidArgument("unknown column '", field.name, "'");
    }
  }
  std::vector<Array> columns;
  for (const Field& field : schema.fields()) {
    const int index = batch.schema().FieldIndex(field.name);
    if (index < 0) {
      if (!field.nullable) return Status::InvalidArgument("missing column '", field.name, "'");
      ArrayBuilder nulls(field.type);
      for (int64_t row = 0; row < batch.num_rows(); ++row) nulls.AppendNull();
      columns.push_back(nulls.Finish());
      continue;
    }
    const Array& array = batch.column(index);
    if (!(array.type() == field.type)) {
      return Status::InvalidArgument("column '", field.name, "' has type ", array.type().ToString(),
                                     ", the table has ", field.type.ToString());
    }
    if (field.type.id == TypeId::kVector) {
      for (int64_t row = 0; row < array.length(); ++row) {
        if (array.IsNull(row)) continue;
        for (float v : array.Vector(row)) {
          if (!std::isfinite(v)) {
            return Status::InvalidArgument("row ", row, ": column '", field.name,
                                           "' holds a NaN or infinite value");
          }
        }
      }
    }
    columns.push_back(array);
  }
  return RecordBatch::Make(schema, std::move(columns));  // checks non-nullable columns
}

Result<int64_t> NextId(Table* table) {
  const int index = table->schema().FieldIndex("id");
  if (index < 0 || table->schema().field(index).type.id != TypeId::kInt64) return int64_t{0};
  std::optional<int64_t> max;
  ScanOptions scan;
  scan.columns = {"id"};
  TESSERA_RETURN_IF_ERROR(table->ScanBatches(scan, [&max](const RecordBatch& batch) {
    const Array& ids = batch.column(0);
    for (int64_t row = 0; row < ids.length(); ++row) {
      if (!ids.IsNull(row) && (!max || ids.Int64(row) > *max)) max = ids.Int64(row);
    }
    return Status::OK();
  }));
  return max ? *max + 1 : 0;
}

}  // namespace

Result<RecordBatch> ReadInputFile(const std::string& path, InputFormat format, const Schema& schema,
                                  int64_t first_fvecs_id) {
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<const io::MappedFile> file,
                           io::LocalFileSystem()->MapFile(path));
  const std::string_view bytes(reinterpret_cast<const char*>(file->data()),
                               static_cast<size_t>(file->size()));
  Result<RecordBatch> batch = Status::Internal("unreachable");
  switch (format) {
    case InputFormat::kJsonLines:
      batch = ReadJsonLines(bytes, schema);
      break;
    case InputFormat::kCsv:
      batch = ReadCsv(bytes, schema);
      break;
    case InputFormat::kFvecs:
      batch = ReadFvecs(bytes, schema, first_fvecs_id);
      break;
    case InputFormat::kArrow: {
      auto reader = format::ArrowIpcFileReader::Open(file);
      batch = reader.ok() ? (*reader)->ReadAll() : Result<RecordBatch>(reader.status());
      break;
    }
  }
  if (!batch.ok()) return batch.status();
  if (batch->num_rows() == 0) return Status::InvalidArgument("the file holds no rows");
  return ConformToSchema(*batch, schema);
}

AutoLoader::AutoLoader(Table* table, AutoLoaderOptions options)
    : table_(table), options_(std::move(options)) {
  if (options_.stream_id.empty()) {
    std::error_code ec;
    const fs::path absolute = fs::weakly_canonical(fs::absolute(options_.watch_dir, ec), ec);
    options_.stream_id = "ingest:" + absolute.string();
  }
  if (options_.quarantine_dir.empty()) {
    options_.quarantine_dir = (fs::path(options_.watch_dir) / "_quarantine").string();
  }
}

std::string AutoLoader::LedgerPath(const std::string& name) const {
  std::string path = std::string(kLedgerDir) + "/" + StreamDirName(options_.stream_id);
  if (!name.empty()) path += "/" + name;
  return table_->internal_store()->Path(path);
}

Result<RecordBatch> AutoLoader::ReadPlanned(const PlannedFile& file) {
  const std::string path = (fs::path(options_.watch_dir) / file.name).string();
  InputFormat format = InputFormat::kJsonLines;
  if (options_.format) {
    format = *options_.format;
  } else {
    TESSERA_ASSIGN_OR_RETURN(format, FormatFromPath(file.name));
  }
  if (format == InputFormat::kFvecs && !next_fvecs_id_) {
    TESSERA_ASSIGN_OR_RETURN(next_fvecs_id_, NextId(table_));
  }
  TESSERA_ASSIGN_OR_RETURN(
      RecordBatch batch, ReadInputFile(path, format, table_->schema(), next_fvecs_id_.value_or(0)));
  if (format == InputFormat::kFvecs) *next_fvecs_id_ += batch.num_rows();
  return batch;
}

Status AutoLoader::Commit(int64_t batch_id, const std::vector<PlannedFile>& files,
                          const std::vector<RecordBatch>& rows, bool recovered,
                          const std::function<void(const IngestBatchReport&)>& on_batch) {
  io::FileSystem* fs = table_->internal_store()->fs();
  if (!recovered) {
    // The plan first: a run killed after it re-commits exactly these files under this id.
    Json plan = {{"batch_id", batch_id}, {"stream_id", options_.stream_id}};
    plan["files"] = Json::array();
    for (const PlannedFile& f : files) {
      plan["files"].push_back({{"name", f.name}, {"size", f.size}, {"mtime_ns", f.mtime_ns}});
    }
    TESSERA_RETURN_IF_ERROR(fs->CreateDirs(LedgerPath("")));
    Status written = fs->CreateExclusive(LedgerPath(PlanName(batch_id)), plan.dump());
    if (written.IsAlreadyExists()) {
      return Status::Conflict("batch ", batch_id, " of stream '", options_.stream_id,
                              "' was planned by another loader: run one loader per stream");
    }
    TESSERA_RETURN_IF_ERROR(written);
  }
  const auto start = Clock::now();
  TESSERA_ASSIGN_OR_RETURN(RecordBatch all, RecordBatch::Concatenate(table_->schema(), rows));
  AddOptions add;
  add.stream_id = options_.stream_id;
  add.batch_id = batch_id;
  TESSERA_ASSIGN_OR_RETURN(AddResult added, table_->Add(all, add));
  checkpoint_ = batch_id;
  IngestBatchReport report;
  report.batch_id = batch_id;
  report.rows = added.already_committed ? 0 : all.num_rows();
  report.commit_ms = MsSince(start);
  report.version = added.version;
  report.recovered = recovered;
  for (const PlannedFile& f : files) {
    done_.insert(f.name);
    report.files.push_back(f.name);
  }
  if (on_batch) on_batch(report);
  return Status::OK();
}

Status AutoLoader::Recover(const std::function<void(const IngestBatchReport&)>& on_batch) {
  TESSERA_ASSIGN_OR_RETURN(checkpoint_, table_->StreamCheckpoint(options_.stream_id));
  io::FileSystem* fs = table_->internal_store()->fs();
  auto listing = fs->ListDir(LedgerPath(""));
  if (!listing.ok() && !listing.status().IsNotFound()) return listing.status();
  std::vector<std::string> committed_plans;
  std::optional<std::string> pending;
  if (listing.ok()) {
    for (const io::FileInfo& info : *listing) {
      const int64_t plan_id = IdOf(info.name, "", ".plan");
      const int64_t done_id = IdOf(info.name, "done-", ".json");
      if (done_id >= 0 && done_id <= checkpoint_) {
        TESSERA_ASSIGN_OR_RETURN(std::string bytes, fs->ReadFile(LedgerPath(info.name)));
        try {
          const Json done = Json::parse(bytes);
          for (const auto& name : done.at("files")) done_.insert(name.get<std::string>());
        } catch (const Json::exception& e) {
          return Status::Corruption("ingest ledger ", info.name, ": ", e.what());
        }
      } else if (plan_id >= 0 && plan_id <= checkpoint_) {
        committed_plans.push_back(info.name);
      } else if (plan_id == checkpoint_ + 1) {
        pending = info.name;
      } else if (plan_id > checkpoint_ + 1) {
        return Status::Corruption("ingest ledger of stream '", options_.stream_id, "' has plan ",
                                  plan_id, " but the table's checkpoint is ", checkpoint_);
      }
    }
  }
  std::vector<PlannedFile> pending_files;
  for (const std::string& name : committed_plans) {
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, fs->ReadFile(LedgerPath(name)));
    try {
      const Json plan = Json::parse(bytes);
      for (const auto& f : plan.at("files")) done_.insert(f.at("name").get<std::string>());
    } catch (const Json::exception& e) {
      return Status::Corruption("ingest ledger ", name, ": ", e.what());
    }
  }
  if (pending) {
    // Planned, not committed: the previous run died in between. Commit exactly those files.
    TESSERA_ASSIGN_OR_RETURN(std::string bytes, fs->ReadFile(LedgerPath(*pending)));
    try {
      const Json plan = Json::parse(bytes);
      for (const auto& f : plan.at("files")) {
        pending_files.push_back({f.at("name").get<std::string>(), f.at("size").get<int64_t>(),
                                 f.at("mtime_ns").get<int64_t>()});
      }
    } catch (const Json::exception& e) {
      return Status::Corruption("ingest ledger ", *pending, ": ", e.what());
    }
    std::vector<RecordBatch> rows;
    for (const PlannedFile& f : pending_files) {
      struct stat st = {};
      const std::string path = (fs::path(options_.watch_dir) / f.name).string();
      if (::stat(path.c_str(), &st) != 0 || st.st_size != f.size) {
        return Status::Corruption("file '", path, "' of planned batch ", checkpoint_ + 1,
                                  " is missing or changed since it was planned: cannot ingest "
                                  "it exactly once (restore it, or remove ",
                                  LedgerPath(*pending), " to forget the batch)");
      }
      TESSERA_ASSIGN_OR_RETURN(RecordBatch batch, ReadPlanned(f));
      rows.push_back(std::move(batch));
    }
    TESSERA_RETURN_IF_ERROR(
        Commit(checkpoint_ + 1, pending_files, rows, /*recovered=*/true, on_batch));
    committed_plans.push_back(*pending);
  }
  return CompactLedger(checkpoint_, committed_plans);
}

Status AutoLoader::CompactLedger(int64_t checkpoint, const std::vector<std::string>& plans) {
  if (plans.size() < kPlansBeforeCompaction) return Status::OK();
  // One file naming every ingested file replaces the committed plans (and older done files).
  io::FileSystem* fs = table_->internal_store()->fs();
  char name[48];
  std::snprintf(name, sizeof(name), "done-%020lld.json", static_cast<long long>(checkpoint));
  Json done = {{"through_batch", checkpoint}, {"files", Json::array()}};
  for (const std::string& file : done_) done["files"].push_back(file);
  Status written = fs->CreateExclusive(LedgerPath(name), done.dump());
  if (!written.ok() && !written.IsAlreadyExists()) return written;
  TESSERA_ASSIGN_OR_RETURN(auto listing, fs->ListDir(LedgerPath("")));
  for (const io::FileInfo& info : listing) {
    const int64_t plan_id = IdOf(info.name, "", ".plan");
    const int64_t done_id = IdOf(info.name, "done-", ".json");
    if ((plan_id >= 0 && plan_id <= checkpoint) || (done_id >= 0 && done_id < checkpoint)) {
      fs->DeleteFile(LedgerPath(info.name)).IgnoreError();
    }
  }
  return Status::OK();
}

Result<std::vector<AutoLoader::PlannedFile>> AutoLoader::EligibleFiles() {
  std::vector<PlannedFile> eligible;
  std::map<std::string, std::pair<int64_t, int64_t>> seen;
  std::error_code ec;
  fs::directory_iterator it(options_.watch_dir, ec);
  if (ec) return Status::IOError("cannot list '", options_.watch_dir, "': ", ec.message());
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (Ignored(name) || done_.count(name)) continue;
    struct stat st = {};
    if (::stat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                             static_cast<int64_t>(st.st_mtim.tv_nsec);
    const std::pair<int64_t, int64_t> now{static_cast<int64_t>(st.st_size), mtime_ns};
    seen[name] = now;
    // Complete when unchanged since the previous scan, one trigger ago (docs/ingest.md).
    auto before = last_seen_.find(name);
    if (options_.once || (before != last_seen_.end() && before->second == now)) {
      eligible.push_back({name, now.first, now.second});
    }
  }
  last_seen_ = std::move(seen);
  std::sort(eligible.begin(), eligible.end(),
            [](const PlannedFile& a, const PlannedFile& b) { return a.name < b.name; });
  return eligible;
}

Status AutoLoader::Quarantine(const PlannedFile& file, const std::string& reason,
                              const std::function<void(const QuarantineReport&)>& on_quarantine) {
  std::error_code ec;
  fs::create_directories(options_.quarantine_dir, ec);
  if (ec) {
    return Status::IOError("cannot create quarantine '", options_.quarantine_dir,
                           "': ", ec.message());
  }
  // The reason first, then the move: a run killed in between parses the file again and
  // quarantines it again. The move is one rename, so a file is never half here, half there.
  const fs::path target = fs::path(options_.quarantine_dir) / file.name;
  {
    std::ofstream out(target.string() + ".reason", std::ios::trunc);
    out << reason << "\n";
  }
  fs::rename(fs::path(options_.watch_dir) / file.name, target, ec);
  if (ec) return Status::IOError("cannot move '", file.name, "' to the quarantine: ", ec.message());
  last_seen_.erase(file.name);
  if (on_quarantine) on_quarantine({file.name, reason});
  return Status::OK();
}

Status AutoLoader::Run(const std::function<void(const IngestBatchReport&)>& on_batch,
                       const std::function<void(const QuarantineReport&)>& on_quarantine) {
  if (options_.trigger_seconds <= 0 || options_.max_rows_per_batch < 1) {
    return Status::InvalidArgument("ingest: the trigger and max rows per batch must be positive");
  }
  if (!fs::is_directory(options_.watch_dir)) {
    return Status::NotFound("ingest: '", options_.watch_dir, "' is not a directory");
  }
  TESSERA_RETURN_IF_ERROR(Recover(on_batch));
  const auto trigger = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options_.trigger_seconds));
  std::vector<std::string> plans_since_compaction;
  while (!stop_) {
    const auto scan_start = Clock::now();
    TESSERA_ASSIGN_OR_RETURN(std::vector<PlannedFile> eligible, EligibleFiles());
    std::vector<PlannedFile> files;
    std::vector<RecordBatch> rows;
    int64_t num_rows = 0;
    auto flush = [&]() -> Status {
      if (files.empty()) return Status::OK();
      TESSERA_RETURN_IF_ERROR(Commit(checkpoint_ + 1, files, rows, false, on_batch));
      plans_since_compaction.push_back(PlanName(checkpoint_));
      files.clear();
      rows.clear();
      num_rows = 0;
      return Status::OK();
    };
    for (const PlannedFile& file : eligible) {
      if (stop_) break;
      Result<RecordBatch> batch = ReadPlanned(file);
      if (!batch.ok()) {
        if (batch.status().IsNotFound()) continue;  // removed since the scan
        TESSERA_RETURN_IF_ERROR(Quarantine(file, batch.status().ToString(), on_quarantine));
        continue;
      }
      if (num_rows > 0 && num_rows + batch->num_rows() > options_.max_rows_per_batch) {
        TESSERA_RETURN_IF_ERROR(flush());
      }
      num_rows += batch->num_rows();
      files.push_back(file);
      rows.push_back(std::move(batch).value());
    }
    if (!stop_) TESSERA_RETURN_IF_ERROR(flush());
    if (plans_since_compaction.size() >= kPlansBeforeCompaction) {
      TESSERA_RETURN_IF_ERROR(CompactLedger(checkpoint_, plans_since_compaction));
      plans_since_compaction.clear();
    }
    if (options_.once) break;
    while (!stop_ && Clock::now() - scan_start < trigger) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return Status::OK();
}

Status IngestJsonLines(Table* table, int fd, const StdinIngestOptions& options,
                       const std::atomic<bool>& stop,
                       const std::function<void(const IngestBatchReport&)>& on_batch) {
  if (options.trigger_seconds <= 0 || options.max_rows_per_batch < 1) {
    return Status::InvalidArgument("ingest: the trigger and max rows per batch must be positive");
  }
  std::string pending;  // complete lines not yet committed
  std::string partial;  // an incomplete last line
  int64_t pending_rows = 0;
  int64_t first_line = 1, next_line = 1;
  int64_t batch_id = 0;
  std::optional<Clock::time_point> first_row_at;
  auto commit = [&]() -> Status {
    if (pending_rows == 0) return Status::OK();
    const auto start = Clock::now();
    Result<RecordBatch> batch = ReadJsonLines(pending, table->schema());
    if (!batch.ok()) {
      return batch.status().WithContext("stdin lines ", first_line, "-", next_line - 1,
                                        " (line numbers within the batch)");
    }
    TESSERA_ASSIGN_OR_RETURN(AddResult added, table->Add(*batch));
    IngestBatchReport report;
    report.batch_id = batch_id++;
    report.rows = batch->num_rows();
    report.commit_ms = MsSince(start);
    report.version = added.version;
    if (on_batch) on_batch(report);
    pending.clear();
    pending_rows = 0;
    first_line = next_line;
    first_row_at.reset();
    return Status::OK();
  };
  char buffer[1 << 16];
  bool eof = false;
  while (!eof && !stop.load()) {
    int timeout_ms = 200;
    if (first_row_at) {
      const double left_ms = options.trigger_seconds * 1000 - MsSince(*first_row_at);
      if (left_ms <= 0) {
        TESSERA_RETURN_IF_ERROR(commit());
        continue;
      }
      timeout_ms = static_cast<int>(std::min(200.0, left_ms)) + 1;
    }
    pollfd pfd = {fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("ingest: poll of stdin failed");
    }
    if (ready == 0) continue;
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("ingest: read of stdin failed");
    }
    if (n == 0) {
      eof = true;
      if (!partial.empty()) partial += '\n';
    } else {
      partial.append(buffer, static_cast<size_t>(n));
    }
    size_t start = 0;
    for (size_t newline = partial.find('\n'); newline != std::string::npos;
         newline = partial.find('\n', start)) {
      const std::string_view line(partial.data() + start, newline - start);
      start = newline + 1;
      ++next_line;
      pending.append(line);
      pending += '\n';
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      ++pending_rows;
      if (!first_row_at) first_row_at = Clock::now();
      if (pending_rows >= options.max_rows_per_batch) {
        TESSERA_RETURN_IF_ERROR(commit());
      }
    }
    partial.erase(0, start);
  }
  return commit();
}

}  // namespace tessera::ingest
