// What a training run reports: the events given to the caller's callbacks, their JSON-lines form in
// RUN_DIR/metrics.jsonl (one object per line with a "type"), and reading that file back (the UI reopening a run).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace gesso::training {

struct StepMetrics {  // "type":"step"
  int64_t step = 0;   // optimizer steps done (1-based after the first)
  int64_t total_steps = 0;
  int64_t epoch = 0;
  double loss = 0;           // this step's mean loss (over its accumulated micro-batches)
  double smoothed_loss = 0;  // exponential moving average (0.9), bias-corrected
  double lr = 0;
  double grad_norm = 0;      // before clipping
  double images_per_second = 0;
  double eta_seconds = 0;
};

struct ValidationMetrics {  // "type":"validation"
  int64_t step = 0;
  double loss = 0;
};

struct SampleMetrics {  // "type":"samples"
  int64_t step = 0;
  std::vector<std::string> paths;
  std::vector<std::string> prompts;
};

struct CheckpointMetrics {  // "type":"checkpoint"
  int64_t step = 0;
  std::string path;
  double validation_loss = 0;  // NaN if none
};

// "type":"start" (a fresh run or a resume from `step`), "type":"end" (status, message).
struct RunMetrics {
  int64_t step = 0;
  std::string status;   // start: "started" | "resumed"; end: "completed" | "cancelled" | "diverged" | "out_of_memory" | "failed"
  std::string message;
};

struct MetricsRecord {
  std::string type;  // step | validation | samples | checkpoint | start | end
  StepMetrics step;
  ValidationMetrics validation;
  SampleMetrics samples;
  CheckpointMetrics checkpoint;
  RunMetrics run;
};

std::string metricsPath(const std::string& run_dir);  // RUN_DIR/metrics.jsonl

// Appends one line per event, flushed.
class MetricsLog {
 public:
  explicit MetricsLog(const std::string& run_dir);  // throws GessoError(IoError)
  void write(const StepMetrics& metrics);
  void write(const ValidationMetrics& metrics);
  void write(const SampleMetrics& metrics);
  void write(const CheckpointMetrics& metrics);
  void writeStart(const RunMetrics& metrics);
  void writeEnd(const RunMetrics& metrics);

 private:
  void append(const std::string& line);
  std::string path_;
  std::ofstream out_;
};

// The run's records in order. After a "start" record with status "resumed" at step S, earlier records of steps
// after S (written before a crash, then redone) are dropped, so each step appears once. A torn last line (a kill
// while writing) is skipped; other malformed lines throw GessoError(InvalidFormat) naming the line.
std::vector<MetricsRecord> readMetrics(const std::string& run_dir);

}  // namespace gesso::training
