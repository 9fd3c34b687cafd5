/* The public check (include/xisan.h) and the decision every failed check
 * shares: which kind of report it makes. */
#include "check.h"

#include "collect.h"
#include "registry.h"
#include "runtime.h"
#include "tag.h"

xs_kind_t xs_classify(uint32_t owner, xisan_access_t access)
{
    if (xs_interp_ended(owner))
        return XS_KIND_USE_AFTER_INTERPRETER_END;
    if (access == XISAN_ACCESS_FREE || access == XISAN_ACCESS_REALLOC ||
        access == XISAN_ACCESS_DEALLOC)
        return XS_KIND_CROSS_INTERPRETER_FREE;
    return XS_KIND_CROSS_INTERPRETER_ACCESS;
}

int xisan_check(const void *user, xisan_access_t access, const char *type_name)
{
    if (user == NULL || xs_in_runtime)
        return 0;
    const xs_header_t *h = xs_tagged_header(user);
    uint32_t current = xisan_current();
    if (h == NULL || xs_owner_allows(h->word, current))
        return 0;
    uint32_t owner = xs_tag_owner(h);
    xs_touch_t t = {
        .kind = xs_classify(owner, access),
        .access = access,
        .user = user,
        .object_address = (uintptr_t)user,
        .object_type = type_name,
        .owner = owner,
        .current = current,
    };
    xs_report_touch(&t);
    return 1;
}

unsigned long xisan_report_count(void)
{
    return xs_reports_made();
}
