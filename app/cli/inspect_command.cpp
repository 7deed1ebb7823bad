// gesso-cli inspect FILE [--json]: validates a safetensors file completely and lists its tensors and metadata.
#include "commands.h"

#include "gesso/io/safetensors.h"
#include "gesso/util/shape_text.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace gesso::cli {

namespace {

void printInspection(const io::SafetensorsFile& file, bool as_json) {
  if (as_json) {
    nlohmann::json json;
    json["file"] = file.path();
    json["file_bytes"] = file.fileSize();
    json["header_bytes"] = file.headerSize();
    json["metadata"] = file.metadata();
    json["tensors"] = nlohmann::json::array();
    for (const auto& tensor : file.tensors()) {
      json["tensors"].push_back({{"name", tensor.name},
                                 {"dtype", io::dtypeName(tensor.dtype)},
                                 {"shape", tensor.shape},
                                 {"bytes", tensor.byteSize()}});
    }
    std::cout << json.dump(2) << '\n';
    return;
  }
  std::cout << file.path() << ": " << file.tensors().size() << " tensors, " << file.fileSize() << " bytes, valid\n";
  for (const auto& tensor : file.tensors()) {
    std::cout << "  " << tensor.name << "  " << io::dtypeName(tensor.dtype) << "  " << shapeText(tensor.shape) << "  "
              << tensor.byteSize() << " bytes\n";
  }
  if (!file.metadata().empty()) {
    std::cout << "metadata:\n";
    for (const auto& [key, value] : file.metadata()) {
      const std::string shown = value.size() > 200 ? value.substr(0, 200) + "... (" + std::to_string(value.size()) + " chars)" : value;
      std::cout << "  " << key << " = " << shown << '\n';
    }
  }
}

}  // namespace

void addInspectCommand(CLI::App& app, CommandContext& context) {
  auto* command = app.add_subcommand("inspect", "Validate a safetensors file and list every tensor and the metadata");
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  command->add_option("FILE", *path, "A .safetensors file")->required();
  command->add_flag("--json", *as_json, "Print JSON");
  command->callback([&context, path, as_json] {
    auto result = captureErrors([&] {
      auto file = io::SafetensorsFile::open(*path);
      printInspection(*file, *as_json);
    });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
