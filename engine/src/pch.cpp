// Anchor for the precompiled-header object library.
