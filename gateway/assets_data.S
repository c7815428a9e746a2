//  assets_data: the files of gateway/static/, embedded as they are by the assembler's .incbin
//  (no generated code, no tool beyond the compiler). Each file is a read-only byte array between
//  a start and an end symbol, followed by a NUL; gateway/assets.c serves them. The Makefile makes
//  this object depend on gateway/static/*, so an edited file is rebuilt in.
#define ASSET(name, path)           \
    .global name;                   \
    .type name, @object;            \
    .balign 16;                     \
name:                               \
    .incbin path;                   \
    .global name##_end;             \
name##_end:                         \
    .byte 0

    .section .rodata
ASSET(assets_app_js, "gateway/static/app.js")
ASSET(assets_app_css, "gateway/static/app.css")
ASSET(assets_favicon_svg, "gateway/static/favicon.svg")

//  No executable stack for this object (the linker would otherwise ask for one).
    .section .note.GNU-stack, "", @progbits
