/* Debian's libssh.a is built with GSSAPI, and no static GSSAPI library exists.
 * These definitions satisfy the link and make every GSSAPI call fail cleanly, so a
 * client that offers gssapi-with-mic is simply told "no" and falls back to publickey.
 * Signatures follow RFC 2744; opaque types are passed as pointers. */
/* clang-format off: one line per stub keeps this table of refusals readable. */
#include <stddef.h>
#include <stdint.h>

typedef uint32_t OM_uint32;
typedef struct {
    size_t length;
    void *value;
} k8psh_gss_buffer;
typedef struct {
    OM_uint32 length;
    void *elements;
} k8psh_gss_oid_desc;

#define K8PSH_GSS_S_COMPLETE 0u
#define K8PSH_GSS_S_FAILURE (13u << 16)
#define K8PSH_GSS_S_UNAVAILABLE (16u << 16)

static k8psh_gss_oid_desc k8psh_no_oid = {0, NULL};
void *GSS_C_NT_HOSTBASED_SERVICE = &k8psh_no_oid;
void *GSS_C_NT_USER_NAME = &k8psh_no_oid;

static OM_uint32 refuse(OM_uint32 *minor) {
    if (minor)
        *minor = 0;
    return K8PSH_GSS_S_UNAVAILABLE;
}
static OM_uint32 release(OM_uint32 *minor, void **handle) {
    if (minor)
        *minor = 0;
    if (handle)
        *handle = NULL;
    return K8PSH_GSS_S_COMPLETE;
}

OM_uint32 gss_accept_sec_context(OM_uint32 *m, void *a, void *b, void *c, void *d, void *e, void *f, void *g, void *h,
                                 void *i, void *j) {
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    (void)e;
    (void)f;
    (void)g;
    (void)h;
    (void)i;
    (void)j;
    return refuse(m);
}
OM_uint32 gss_acquire_cred(OM_uint32 *m, void *a, OM_uint32 b, void *c, int d, void *e, void *f, void *g) {
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    (void)e;
    (void)f;
    (void)g;
    return refuse(m);
}
OM_uint32 gss_add_oid_set_member(OM_uint32 *m, void *a, void *b) {
    (void)a;
    (void)b;
    return refuse(m);
}
OM_uint32 gss_create_empty_oid_set(OM_uint32 *m, void **set) {
    if (set)
        *set = NULL;
    return refuse(m);
}
OM_uint32 gss_display_name(OM_uint32 *m, void *a, k8psh_gss_buffer *out, void *b) {
    (void)a;
    (void)b;
    if (out) {
        out->length = 0;
        out->value = NULL;
    }
    return refuse(m);
}
OM_uint32 gss_display_status(OM_uint32 *m, OM_uint32 a, int b, void *c, OM_uint32 *ctx, k8psh_gss_buffer *out) {
    (void)a;
    (void)b;
    (void)c;
    static char text[] = "GSSAPI is not supported by k8psh";
    if (ctx)
        *ctx = 0;
    if (out) {
        out->length = sizeof text - 1;
        out->value = text;
    }
    if (m)
        *m = 0;
    return K8PSH_GSS_S_COMPLETE;
}
OM_uint32 gss_get_mic(OM_uint32 *m, void *a, OM_uint32 b, void *c, k8psh_gss_buffer *out) {
    (void)a;
    (void)b;
    (void)c;
    if (out) {
        out->length = 0;
        out->value = NULL;
    }
    return refuse(m);
}
OM_uint32 gss_import_name(OM_uint32 *m, void *a, void *b, void **out) {
    (void)a;
    (void)b;
    if (out)
        *out = NULL;
    return refuse(m);
}
OM_uint32 gss_indicate_mechs(OM_uint32 *m, void **set) {
    if (set)
        *set = NULL;
    return refuse(m);
}
OM_uint32 gss_init_sec_context(OM_uint32 *m, void *a, void *b, void *c, void *d, OM_uint32 e, OM_uint32 f, void *g,
                               void *h, void *i, k8psh_gss_buffer *out, void *j, void *k) {
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    (void)e;
    (void)f;
    (void)g;
    (void)h;
    (void)i;
    (void)j;
    (void)k;
    if (out) {
        out->length = 0;
        out->value = NULL;
    }
    return refuse(m);
}
OM_uint32 gss_inquire_cred(OM_uint32 *m, void *a, void *b, void *c, void *d, void *e) {
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    (void)e;
    return refuse(m);
}
OM_uint32 gss_inquire_cred_by_mech(OM_uint32 *m, void *a, void *b, void *c, void *d, void *e, void *f) {
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    (void)e;
    (void)f;
    return refuse(m);
}
OM_uint32 gss_release_buffer(OM_uint32 *m, k8psh_gss_buffer *buf) {
    /* Buffers handed out above are static or empty: nothing to free. */
    if (buf) {
        buf->length = 0;
        buf->value = NULL;
    }
    if (m)
        *m = 0;
    return K8PSH_GSS_S_COMPLETE;
}
OM_uint32 gss_release_cred(OM_uint32 *m, void **h) {
    return release(m, h);
}
OM_uint32 gss_release_name(OM_uint32 *m, void **h) {
    return release(m, h);
}
OM_uint32 gss_release_oid_set(OM_uint32 *m, void **h) {
    return release(m, h);
}
OM_uint32 gss_test_oid_set_member(OM_uint32 *m, void *a, void *b, int *present) {
    (void)a;
    (void)b;
    if (present)
        *present = 0;
    return refuse(m);
}
OM_uint32 gss_verify_mic(OM_uint32 *m, void *a, void *b, void *c, void *d) {
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return refuse(m);
}
/* clang-format on */
