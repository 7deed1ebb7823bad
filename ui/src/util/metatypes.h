// Engine types that travel in queued signals, declared to Qt's meta-type system once (include this, not the
// engine header alone, wherever such a type appears in a signal or slot).
#pragma once

#include "gesso/pipeline/generate_request.h"

#include <QMetaType>

Q_DECLARE_METATYPE(gesso::pipeline::GenerateRequest)
