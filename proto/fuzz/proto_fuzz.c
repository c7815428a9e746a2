//  proto_fuzz: the libFuzzer target of proto_decode (build and run: proto/fuzz/fuzz.mk).
//
//  Every input must give a clean error (NULL and a reason) or a message that
//  re-encodes, decodes again to the same message, and describes itself; any
//  other outcome aborts, and ASan/UBSan catch the rest.
//
//  Seed mode: with PROTO_FUZZ_SEED_DIR set, the program writes one valid frame
//  per schema row (all fields, and required fields only) into that directory,
//  and a libFuzzer dictionary of the schema's names to PROTO_FUZZ_DICT (when
//  set), then exits without fuzzing.
#include "proto/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why = NULL;
    uint64_t rid = 0;
    proto_msg_t *msg = proto_decode(data, size, &why, &rid);
    if (!msg) {
        if (!why || !*why)
            abort();  //  every refusal says why
        return 0;
    }
    if (why || rid != proto_msg_rid(msg))
        abort();
    char *again = NULL;
    size_t again_size = 0;
    if (proto_encode(msg, &again, &again_size) != 0)
        abort();  //  whatever decodes must encode
    proto_msg_t *back = proto_decode(again, again_size, &why, NULL);
    if (!proto_msg_equal(msg, back))
        abort();
    char text[300];
    proto_msg_describe(msg, text, sizeof text);
    if (strlen(text) >= sizeof text)
        abort();
    (void) proto_error_code(msg);
    proto_msg_destroy(&back);
    proto_msg_destroy(&msg);
    free(again);
    return 0;
}

//  Write one frame of type into dir: every field (short values) or required ones only.
static int s_write_seed(const char *dir, proto_type_t type, bool full)
{
    const proto_msgdef_t *def = proto_schema(type);
    proto_msg_t *msg = proto_msg_new(type, 0x1234);
    for (size_t i = 0; msg && i < def->field_count; i++) {
        const proto_field_t *f = &def->fields[i];
        if (!full && !f->required)
            continue;
        if (f->type == PROTO_F_STR)
            proto_msg_set_str(msg, f->name, full ? "value" : "");
        else if (f->type == PROTO_F_INT)
            proto_msg_set_int(msg, f->name, full ? -300 : 70000);
        else
            proto_msg_set_bool(msg, f->name, full);
    }
    char *frame = NULL;
    size_t size = 0;
    char path[512];
    snprintf(path, sizeof path, "%s/seed-%s-%s", dir, def->name, full ? "full" : "min");
    FILE *file = NULL;
    int rc = proto_encode(msg, &frame, &size) == 0 && (file = fopen(path, "wb")) != NULL
            && fwrite(frame, 1, size, file) == size
        ? 0
        : -1;
    if (file && fclose(file) != 0)
        rc = -1;
    free(frame);
    proto_msg_destroy(&msg);
    return rc;
}

//  The schema's type, field and error code names as a libFuzzer dictionary.
static int s_write_dict(const char *path)
{
    FILE *file = fopen(path, "w");
    if (!file)
        return -1;
    for (int t = PROTO_INVALID + 1; t < PROTO_TYPE_COUNT; t++) {
        const proto_msgdef_t *def = proto_schema((proto_type_t) t);
        fprintf(file, "\"%s\"\n", def->name);
        for (size_t i = 0; i < def->field_count; i++)
            fprintf(file, "\"%s\"\n", def->fields[i].name);
    }
    for (int c = PROTO_OK + 1; c < PROTO_CODE_COUNT; c++)
        fprintf(file, "\"%s\"\n", proto_code_name((proto_code_t) c));
    //  Frame start, and length headers that test the pre-scan.
    fprintf(file, "\"\\x94\\x01\"\n\"\\xdd\\xff\\xff\\xff\\xff\"\n\"\\xdb\\x00\\x01\\x00\\x01\"\n");
    return fclose(file) == 0 ? 0 : -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    const char *dir = getenv("PROTO_FUZZ_SEED_DIR");
    if (!dir || !*dir)
        return 0;
    int rc = 0;
    for (int t = PROTO_INVALID + 1; t < PROTO_TYPE_COUNT; t++)
        rc |= s_write_seed(dir, (proto_type_t) t, true) | s_write_seed(dir, (proto_type_t) t, false);
    const char *dict = getenv("PROTO_FUZZ_DICT");
    if (dict && *dict)
        rc |= s_write_dict(dict);
    fprintf(stderr, "proto_fuzz: seeds written to %s%s\n", dir, rc ? " (with errors)" : "");
    exit(rc ? 1 : 0);
}
