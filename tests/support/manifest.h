// Helpers for the key-manifest tests: a network built on the meta device must hold exactly the tensor names and
// shapes of a section of golden/<model>_keys.json ({"sections": {name: {"prefix", "tensors": {key: {"shape",
// "kind"}}}}}).
#pragma once

#include <QStringList>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace gesso::test {

using Shapes = std::map<std::string, std::vector<int64_t>>;

// The rows of a data-driven test over the three key manifests: column "manifest" (QString), rows "sd15", "sd21",
// "sdxl" for sd15_keys.json, sd21_keys.json, sdxl_keys.json.
void addManifestRows();

// The whole key manifest golden/<file>.
nlohmann::json readManifest(const std::string& file);

// A manifest section's tensors, named without `prefix`.
struct SectionShapes {
  Shapes shapes;
  Shapes optional;                // the entries `is_optional` picked, kept apart from `shapes`
  QStringList outside;  // keys that do not start with `prefix` (left out of both maps)
};
using OptionalEntry = std::function<bool(const std::string& name, const nlohmann::json& entry)>;
SectionShapes sectionShapes(const nlohmann::json& section, const std::string& prefix,
                            const OptionalEntry& is_optional = {});
// Section `name` of a whole manifest, named without that section's own prefix.
SectionShapes componentShapes(const nlohmann::json& manifest, const std::string& name);

// A module's parameters by name, their total element count, and whether every one is on the meta device.
struct ParameterShapes {
  Shapes shapes;
  int64_t elements = 0;
  bool all_meta = true;
};
ParameterShapes parameterShapes(const torch::nn::Module& module);


// One line per difference, empty when the two agree: "missing NAME [shape]", "shape of NAME: [actual], expected
// [expected]", "unexpected NAME [shape]".
QStringList shapeDifferences(const Shapes& actual, const Shapes& expected);

}  // namespace gesso::test
