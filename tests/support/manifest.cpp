// Key-manifest helpers; see manifest.h.
#include "manifest.h"

#include "golden.h"
#include "gesso/util/shape_text.h"

#include <QtTest>

#include <fstream>

namespace gesso::test {

void addManifestRows() {
  QTest::addColumn<QString>("manifest");
  QTest::newRow("sd15") << "sd15_keys.json";
  QTest::newRow("sd21") << "sd21_keys.json";
  QTest::newRow("sdxl") << "sdxl_keys.json";
}

nlohmann::json readManifest(const std::string& file) {
  std::ifstream in(goldenPath(file));
  return nlohmann::json::parse(in);
}

SectionShapes sectionShapes(const nlohmann::json& section, const std::string& prefix, const OptionalEntry& is_optional) {
  SectionShapes result;
  for (const auto& [key, entry] : section.at("tensors").items()) {
    if (key.rfind(prefix, 0) != 0) {
      result.outside << QString::fromStdString(key);
      continue;
    }
    const std::string name = key.substr(prefix.size());
    const bool optional = is_optional && is_optional(name, entry);
    (optional ? result.optional : result.shapes)[name] = entry.at("shape").get<std::vector<int64_t>>();
  }
  return result;
}

SectionShapes componentShapes(const nlohmann::json& manifest, const std::string& name) {
  const auto& section = manifest.at("sections").at(name);
  return sectionShapes(section, section.at("prefix").get<std::string>());
}

ParameterShapes parameterShapes(const torch::nn::Module& module) {
  ParameterShapes result;
  for (const auto& item : module.named_parameters()) {
    result.shapes[item.key()] = item.value().sizes().vec();
    result.elements += item.value().numel();
    result.all_meta = result.all_meta && item.value().is_meta();
  }
  return result;
}

QStringList shapeDifferences(const Shapes& actual, const Shapes& expected) {
  QStringList differences;
  for (const auto& [name, shape] : expected) {
    const auto found = actual.find(name);
    if (found == actual.end()) {
      differences << QString::fromStdString("missing " + name + " " + shapeText(shape));
    } else if (found->second != shape) {
      differences << QString::fromStdString("shape of " + name + ": " + shapeText(found->second) + ", expected " +
                                            shapeText(shape));
    }
  }
  for (const auto& [name, shape] : actual) {
    if (!expected.count(name)) differences << QString::fromStdString("unexpected " + name + " " + shapeText(shape));
  }
  return differences;
}

}  // namespace gesso::test
