"""Rows for bench/scale.sh, as CSV for `COPY ... FROM STDIN (FORMAT csv)`.

    scale_data.py tenants N          tenants org-0 .. org-{N-1}
    scale_data.py users N PER HASH   PER users in each of the N tenants, in sign-up order
    scale_data.py email T U          the address of user U of tenant T
    scale_data.py sql-email          the same address as an SQL expression of :t and :u
                                     (pgbench variables), for the sign-in lookup script

Users arrive interleaved, as they would over two years of sign-ups in many tenants: one
tenant's users are spread over the whole table, not packed together. Each has a distinct
address built from a first and a last name (first.last{U}@org-{T}.example), the matching
display name, a role (2 owners, ~2% admins, the rest users), a status (~95% active, 3%
invited — no password yet —, 1% disabled, 1% archived), sign-up, verification and last
sign-in times. Every password is the one argon2id hash given (HASH), so a sign-in lookup
returns a production-sized row. Ids are time-ordered (version-7 layout).
"""
import sys

FIRST = """amelia oliver isla george ava noah mia arthur ivy leo grace oscar freya harry lily
jack sofia charlie emily jacob ella thomas poppy henry evie william alice james sophie luca
daisy alfie chloe theo willow finn rosie archie maya isaac ruby max hannah samuel zara joshua
erin lucas anna daniel layla adam eva mohammed aria omar nina yusuf leah ravi priya arjun
ananya kenji yuki hiro mei wei lin chen jia ali fatima hassan amira diego lucia mateo elena
pablo carmen marco giulia rafael chiara jonas lena felix emma paul marie""".split()
LAST = """smith jones taylor brown williams wilson johnson davies robinson wright thompson evans
walker white roberts green hall wood jackson clarke patel khan lewis james phillips mason
mitchell rose davis rodriguez cox alexander garcia martinez hughes nguyen tran le pham huang
wang zhang liu chen yang kim lee park choi tanaka suzuki sato watanabe ito muller schmidt
schneider fischer weber meyer wagner becker schulz hoffmann rossi russo ferrari esposito
bianchi romano colombo ricci marino greco silva santos oliveira souza costa pereira dubois
martin bernard thomas petit durand leroy moreau simon laurent novak horvat kowalski nowak
wisniewski jensen nielsen hansen""".split()
KINDS = ["Labs", "Logistics", "Health", "Systems", "Studio", "Foods", "Capital", "Works"]
START = 1704067200  # 2024-01-01T00:00:00Z; sign-ups spread over the two years after it
SPAN = 2 * 365 * 86400


def names(t, u):
    return FIRST[(u * 37 + t) % len(FIRST)], LAST[(u * 53 + t * 7) % len(LAST)]


def email(t, u):
    first, last = names(t, u)
    return f"{first}.{last}{u}@org-{t}.example"


def tenant_id(t):
    return f"00000000-0000-4000-8000-{t + 1:012x}"


_days = {}


def stamp(ts):
    """ts (Unix seconds) as a timestamptz literal, fast (the loader writes millions)."""
    d, s = divmod(ts, 86400)
    day = _days.get(d)
    if day is None:
        import datetime
        day = _days[d] = datetime.date.fromordinal(719163 + d).isoformat()
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{day} {h:02}:{m:02}:{s:02}+00"


def tenants(n):
    out = sys.stdout
    for t in range(n):
        plan = ("free", "pro", "enterprise")[t % 3]
        # 2% suspended, 10% require MFA of admins — never tenant 0 or the middle one (the
        # tenants bench/scale.sh measures, signed in as their owner).
        plain = t in (0, n // 2)
        suspended = t % 50 == 49 and not plain
        mfa = "admins" if t % 10 == 3 and not plain else "off"
        created = stamp(START + t * 3600)
        name = f"{LAST[t % len(LAST)].capitalize()} {KINDS[t % len(KINDS)]} {t}"
        out.write(f"{tenant_id(t)},{name},org-{t},{plan},{'suspended' if suspended else 'active'},"
                  f"{mfa},{created if suspended else ''},{created},{created}\n")


def users(n, per, phc):
    out = sys.stdout
    step = max(1, SPAN // (n * per))
    phc = f'"{phc}"'
    tids = [tenant_id(t) for t in range(n)]
    rows = []
    for u in range(per):
        if u < 2:
            role = "owner"
        elif u % 50 == 2:
            role = "admin"
        else:
            role = "user"
        r = u % 100
        status = ("archived" if r == 5 else "disabled" if r == 7
                  else "invited" if r in (11, 12, 13) else "active")
        for t in range(n):
            k = u * n + t
            ts = START + k * step
            created = stamp(ts)
            first, last = names(t, u)
            verified = stamp(ts + 3600) if status != "invited" else ""
            last_login = stamp(ts + 86400 + (k % 300) * 3600) if status == "active" else ""
            archived = stamp(ts + 30 * 86400) if status == "archived" else ""
            rows.append(
                f"{k >> 48:08x}-{(k >> 32) & 0xffff:04x}-7000-8000-{k & 0xffffffffffff:012x},"
                f"{tids[t]},{first}.{last}{u}@org-{t}.example,{first.capitalize()} {last.capitalize()},"
                f"{role},{status},{'' if status == 'invited' else phc},{verified},{last_login},"
                f"{archived},{created},{created}\n")
        if len(rows) >= 20000:
            out.write("".join(rows))
            rows.clear()
    out.write("".join(rows))


def sql_email():
    """The address of user :u of tenant :t, built in SQL the way email() builds it."""
    arr = lambda words: "(ARRAY[" + ",".join(f"'{w}'" for w in words) + "])"
    return (f"{arr(FIRST)}[(:u * 37 + :t) % {len(FIRST)} + 1] || '.' || "
            f"{arr(LAST)}[(:u * 53 + :t * 7) % {len(LAST)} + 1] || :u || '@org-' || :t || '.example'")


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "tenants":
        tenants(int(sys.argv[2]))
    elif what == "users":
        users(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif what == "email":
        print(email(int(sys.argv[2]), int(sys.argv[3])))
    elif what == "sql-email":
        print(sql_email())
    else:
        sys.exit(f"unknown: {what}")
