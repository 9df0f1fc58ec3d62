/*
 * vmm/ssm/ssm_ops.c - the field functions as one table (ssm.h's struct
 * ssm_field_ops), which PDM hands to device plugins as hlp->ssm: plugins
 * link nothing of the VMM.
 */
#include "ssm/ssm.h"

const struct ssm_field_ops ssm_field_ops = {
    .put_u8 = ssm_put_u8,
    .put_u16 = ssm_put_u16,
    .put_u32 = ssm_put_u32,
    .put_u64 = ssm_put_u64,
    .put_i64 = ssm_put_i64,
    .put_bool = ssm_put_bool,
    .put_bytes = ssm_put_bytes,
    .put_string = ssm_put_string,
    .unit_version = ssm_unit_version,
    .check_version = ssm_unit_check_version,
    .has_field = ssm_has_field,
    .get_u8 = ssm_get_u8,
    .get_u16 = ssm_get_u16,
    .get_u32 = ssm_get_u32,
    .get_u64 = ssm_get_u64,
    .get_i64 = ssm_get_i64,
    .get_bool = ssm_get_bool,
    .get_bytes = ssm_get_bytes,
    .get_bytes_ref = ssm_get_bytes_ref,
    .get_string = ssm_get_string,
};
