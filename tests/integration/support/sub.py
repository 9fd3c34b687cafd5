"""Code the test cases run inside sub-interpreters."""
import xfix


class Payload:
    pass


def use_cached():
    cached = xfix.get_cached()
    cached.append(1)  # XISAN-EXPECT: cached_object


def run_stored_callback():
    xfix.run_callback()


def replace_slot():
    xfix.set_slot(None)  # XISAN-EXPECT: slot_drop


def fill_slot():
    xfix.set_slot(Payload())  # XISAN-EXPECT: use_after_end


def use_isolated(rounds):
    import xiso
    for i in range(rounds):
        counter = xiso.new_counter()
        counter.add(i)
        cache = xiso.get_cache()
        cache.append(counter)
        if len(cache) > 16:
            cache.clear()
        try:
            xiso.fail("expected")
        except xiso.Error:
            pass
        xiso.call(lambda: i)


def keep_dangling():
    """A large object (its memory is unmapped when freed) whose address an
    extension keeps without a reference; it dies when this interpreter ends."""
    import xcrash
    global kept
    kept = bytes(40 << 20)  # XISAN-EXPECT: crash_dangling
    xcrash.keep_raw(kept)
