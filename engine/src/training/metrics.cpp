// metrics.jsonl: writing events and reading them back.
#include "gesso/training/metrics.h"

#include "gesso/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace gesso::training {

namespace {

using Json = nlohmann::json;

// JSON has no NaN: a missing value is null.
Json number(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }
double numberOr(const Json& json, const char* key, double fallback) {
  const auto it = json.find(key);
  return it == json.end() || !it->is_number() ? fallback : it->get<double>();
}
int64_t integer(const Json& json, const char* key) {
  const auto it = json.find(key);
  return it == json.end() || !it->is_number() ? 0 : it->get<int64_t>();
}
std::string text(const Json& json, const char* key) {
  const auto it = json.find(key);
  return it == json.end() || !it->is_string() ? std::string() : it->get<std::string>();
}

int64_t recordStep(const MetricsRecord& record) {
  if (record.type == "step") return record.step.step;
  if (record.type == "validation") return record.validation.step;
  if (record.type == "samples") return record.samples.step;
  if (record.type == "checkpoint") return record.checkpoint.step;
  return record.run.step;
}

}  // namespace

std::string metricsPath(const std::string& run_dir) { return (std::filesystem::path(run_dir) / "metrics.jsonl").string(); }

MetricsLog::MetricsLog(const std::string& run_dir) : path_(metricsPath(run_dir)) {
  std::error_code error;
  std::filesystem::create_directories(run_dir, error);
  out_.open(path_, std::ios::app | std::ios::binary);
  if (!out_) fail(ErrorCode::IoError, "cannot open '" + path_ + "' for appending");
}

void MetricsLog::append(const std::string& line) {
  out_ << line << '\n';
  out_.flush();
  if (!out_) fail(ErrorCode::IoError, "cannot write to '" + path_ + "'");
}

void MetricsLog::write(const StepMetrics& m) {
  append(Json{{"type", "step"}, {"step", m.step}, {"total_steps", m.total_steps}, {"epoch", m.epoch}, {"loss", number(m.loss)},
              {"smoothed_loss", number(m.smoothed_loss)}, {"lr", number(m.lr)}, {"grad_norm", number(m.grad_norm)},
              {"images_per_second", number(m.images_per_second)}, {"eta_seconds", number(m.eta_seconds)}}
             .dump());
}

void MetricsLog::write(const ValidationMetrics& m) {
  append(Json{{"type", "validation"}, {"step", m.step}, {"loss", number(m.loss)}}.dump());
}

void MetricsLog::write(const SampleMetrics& m) {
  append(Json{{"type", "samples"}, {"step", m.step}, {"paths", m.paths}, {"prompts", m.prompts}}.dump());
}

void MetricsLog::write(const CheckpointMetrics& m) {
  append(Json{{"type", "checkpoint"}, {"step", m.step}, {"path", m.path}, {"validation_loss", number(m.validation_loss)}}.dump());
}

void MetricsLog::writeStart(const RunMetrics& m) {
  append(Json{{"type", "start"}, {"step", m.step}, {"status", m.status}, {"message", m.message}}.dump());
}

void MetricsLog::writeEnd(const RunMetrics& m) {
  append(Json{{"type", "end"}, {"step", m.step}, {"status", m.status}, {"message", m.message}}.dump());
}

std::vector<MetricsRecord> readMetrics(const std::string& run_dir) {
  const std::string path = metricsPath(run_dir);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::FileNotFound, "no metrics file '" + path + "'");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::vector<MetricsRecord> records;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    Json json;
    try {
      json = Json::parse(lines[i]);
    } catch (const std::exception&) {
      if (i + 1 == lines.size()) break;  // torn by a kill mid-write
      fail(ErrorCode::InvalidFormat, "'" + path + "' line " + std::to_string(i + 1) + " is not valid JSON");
    }
    MetricsRecord record;
    record.type = text(json, "type");
    if (record.type == "step") {
      StepMetrics& m = record.step;
      m.step = integer(json, "step");
      m.total_steps = integer(json, "total_steps");
      m.epoch = integer(json, "epoch");
      m.loss = numberOr(json, "loss", NAN);
      m.smoothed_loss = numberOr(json, "smoothed_loss", NAN);
      m.lr = numberOr(json, "lr", NAN);
      m.grad_norm = numberOr(json, "grad_norm", NAN);
      m.images_per_second = numberOr(json, "images_per_second", NAN);
      m.eta_seconds = numberOr(json, "eta_seconds", NAN);
    } else if (record.type == "validation") {
      record.validation = {integer(json, "step"), numberOr(json, "loss", NAN)};
    } else if (record.type == "samples") {
      record.samples.step = integer(json, "step");
      if (json.contains("paths")) record.samples.paths = json["paths"].get<std::vector<std::string>>();
      if (json.contains("prompts")) record.samples.prompts = json["prompts"].get<std::vector<std::string>>();
    } else if (record.type == "checkpoint") {
      record.checkpoint = {integer(json, "step"), text(json, "path"), numberOr(json, "validation_loss", NAN)};
    } else if (record.type == "start" || record.type == "end") {
      record.run = {integer(json, "step"), text(json, "status"), text(json, "message")};
    } else {
      fail(ErrorCode::InvalidFormat, "'" + path + "' line " + std::to_string(i + 1) + " has an unknown type '" + record.type + "'");
    }
    // A fresh start (step 0) in the same folder drops the records of an earlier run killed before its first checkpoint.
    if (record.type == "start" && (record.run.status == "resumed" || record.run.status == "started")) {
      const int64_t resumed_at = record.run.step;
      records.erase(std::remove_if(records.begin(), records.end(),
                                   [resumed_at](const MetricsRecord& r) { return r.type != "start" && r.type != "end" && recordStep(r) > resumed_at; }),
                    records.end());
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace gesso::training
