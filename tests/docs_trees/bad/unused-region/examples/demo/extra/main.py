"""Bad: a region that no page shows."""


# [START demo_extra]
def extra():
    return 42
# [END demo_extra]
