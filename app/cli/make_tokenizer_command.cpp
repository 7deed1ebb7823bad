// gesso-cli make-tokenizer --data DIR --vocab-size N --output DIR: learns a CLIP-format BPE vocabulary from the
// .txt captions under DIR and writes vocab.json + merges.txt.
#include "commands.h"

#include "gesso/models/bpe_trainer.h"

#include <spdlog/spdlog.h>

#include <memory>

namespace gesso::cli {

namespace {

struct MakeTokenizerOptions {
  std::string data;
  int vocab_size = 1024;
  std::string output;
};

}  // namespace

void addMakeTokenizerCommand(CLI::App& app, CommandContext& context) {
  auto* command = app.add_subcommand(
      "make-tokenizer", "Learn a CLIP-format byte-level BPE vocabulary (vocab.json + merges.txt) from .txt captions");
  auto options = std::make_shared<MakeTokenizerOptions>();
  command->add_option("--data", options->data, "Folder searched recursively for .txt captions")->required();
  command->add_option("--vocab-size", options->vocab_size,
                      "Largest vocabulary (at least 514: 512 byte symbols + 2 special tokens); learning stops earlier "
                      "when every word is one token")->default_val(1024);
  command->add_option("--output", options->output, "Folder for vocab.json and merges.txt")->required();
  command->callback([&context, options] {
    auto result = captureErrors([&] {
      const std::vector<std::string> captions = models::readCaptionFiles(options->data);
      const models::BpeVocabulary bpe = models::learnBpe(captions, options->vocab_size);
      models::writeBpeVocabulary(bpe, options->output);
      spdlog::info("learned {} merges ({} tokens) from {} captions; wrote {}/vocab.json and merges.txt",
                   bpe.merges.size(), bpe.vocabulary.size(), captions.size(), options->output);
    });
    if (!result) reportError(context, result.error());
  });
}

}  // namespace gesso::cli
