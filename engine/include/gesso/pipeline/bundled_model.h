// Where the bundled model (resources/models/gesso-shapes, trained by Gesso itself) is found without configuration.
#pragma once

#include <string>
#include <vector>

namespace gesso::pipeline {

constexpr const char* kBundledModelName = "gesso-shapes";
constexpr int kBundledModelSize = 64;  // the image side it is trained at (latents 16x16)
constexpr const char* kBundledModelPrompt = "a large red circle on the left, blue background";  // an example prompt

// The folders searched for models/gesso-shapes/gesso-shapes.safetensors, in order: $GESSO_MODELS, the
// installed share/gesso/models beside the executable (../share/gesso/models), the install prefix's
// share/gesso/models, and the source tree's resources/models (a build tree).
std::vector<std::string> bundledModelSearchPaths();

// The path of gesso-shapes.safetensors in the first folder that has it, or "" when none does.
std::string bundledModelPath();

}  // namespace gesso::pipeline
