/* Status codes returned by every smrt_ function of the C core. */
#ifndef SMRT_STATUS_H
#define SMRT_STATUS_H

enum {
    SMRT_OK = 0,
    SMRT_ENOMEM = -1,  /* allocation failed */
    SMRT_ECRYPTO = -2, /* OpenSSL failed; its error queue says why */
    SMRT_EINVAL = -3,  /* malformed input (the caller validates first) */
    SMRT_ECURL = -4,   /* libcurl refused an option or a handle */
    SMRT_ELOAD = -5,   /* libcurl or libcrypto could not be loaded (smrt_dyn_error says why) */
};

#endif
