#!/usr/bin/env python3
"""test/corpus/generate.py — writes test/corpus/corpus.sql, the labelled corpus
of PII discovery: schema "corpus" with tables whose columns hold one kind of
value each (mainland mobile numbers, resident identity numbers, unified social
credit codes, bank cards, e-mail, IP and MAC addresses, names, addresses) or a
decoy (hashes, order numbers, 18-digit numbers with bad check digits, 12-digit
phone-like numbers, 11-digit numbers off the operator segments, card-like
numbers failing Luhn, credit-code-like strings with bad check characters, ...),
and the table corpus.truth labelling every column with its true category or
'none'.  Check digits are computed here; the output depends only on SEED, so
running it again gives the same file.

    python3 test/corpus/generate.py > test/corpus/corpus.sql
"""
import random

SEED = 20240612
ROWS = 500
rnd = random.Random(SEED)

# ---------------------------------------------------------------- generators
SEGMENTS = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147",
            "149", "150", "151", "152", "153", "155", "156", "157", "158", "159", "162", "166",
            "167", "170", "171", "173", "175", "176", "177", "178", "180", "181", "182", "183",
            "184", "185", "186", "187", "188", "189", "190", "191", "192", "193", "195", "196",
            "197", "198", "199"]
NOT_SEGMENTS = ["100", "101", "110", "112", "120", "123", "140", "141", "142", "143", "144", "154",
                "160", "161", "164", "168", "169", "179", "194"]


def mobile(fmt=0):
    d = rnd.choice(SEGMENTS) + "".join(rnd.choice("0123456789") for _ in range(8))
    if fmt == 1:
        return "+86 %s %s %s" % (d[:3], d[3:7], d[7:])
    if fmt == 2:
        return "%s-%s-%s" % (d[:3], d[3:7], d[7:])
    return d


ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
REGIONS = ["110105", "310104", "440305", "510107", "330106", "320102", "420106", "610113",
           "370202", "210102", "500103", "530102", "650102", "810000", "230103"]


def id_check(body):
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS)) % 11]


def birth():
    y = rnd.randint(1940, 2006)
    m = rnd.randint(1, 12)
    d = rnd.randint(1, 28)
    return "%04d%02d%02d" % (y, m, d)


def resident_id(lower_x=False):
    body = rnd.choice(REGIONS) + birth() + "%03d" % rnd.randint(0, 999)
    c = id_check(body)
    return body + (c.lower() if lower_x else c)


def resident_id_bad():
    body = rnd.choice(REGIONS) + birth() + "%03d" % rnd.randint(0, 999)
    good = id_check(body)
    return body + rnd.choice([c for c in "0123456789" if c != good])


USCC_ALPHA = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_check(body):
    s = sum(USCC_ALPHA.index(c) * w for c, w in zip(body, USCC_WEIGHTS))
    return USCC_ALPHA[(31 - s % 31) % 31]


def uscc_body():
    return (rnd.choice("915Y")[0] + rnd.choice("123") + rnd.choice(REGIONS)
            + "".join(rnd.choice(USCC_ALPHA) for _ in range(9)))


def uscc():
    b = uscc_body()
    return b + uscc_check(b)


def uscc_bad():
    b = uscc_body()
    good = uscc_check(b)
    return b + rnd.choice([c for c in USCC_ALPHA if c != good])


def luhn_digit(body):
    total = 0
    for i, c in enumerate(reversed(body)):
        x = int(c)
        if i % 2 == 0:
            x *= 2
            if x > 9:
                x -= 9
        total += x
    return str((10 - total % 10) % 10)


def card(grouped=False):
    n = rnd.choice([16, 16, 19])
    prefix = rnd.choice(["62", "62", "4", "51", "55", "35"])
    body = prefix + "".join(rnd.choice("0123456789") for _ in range(n - 1 - len(prefix)))
    num = body + luhn_digit(body)
    return " ".join(num[i:i + 4] for i in range(0, len(num), 4)) if grouped else num


def card_bad():
    n = rnd.choice([16, 19])
    body = "62" + "".join(rnd.choice("0123456789") for _ in range(n - 3))
    good = luhn_digit(body)
    return body + rnd.choice([c for c in "0123456789" if c != good])


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
ENGLISH = ["Alice Zhang", "Bob Li", "Chen Wei", "David Wang", "Emma Liu", "Frank Zhou"]


def person_name():
    if rnd.random() < 0.1:
        return rnd.choice(ENGLISH)
    return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice([1, 2])))


PROVINCES = ["北京市朝阳区", "上海市浦东新区", "广东省深圳市南山区", "四川省成都市武侯区", "浙江省杭州市西湖区",
             "江苏省南京市玄武区", "湖北省武汉市洪山区", "陕西省西安市雁塔区"]
ROADS = ["建国路", "人民路", "中山路", "解放大道", "科技园南路", "文三路", "长安街", "滨江大道"]


def address():
    return "%s%s%d号%d栋%d室" % (rnd.choice(PROVINCES), rnd.choice(ROADS), rnd.randint(1, 999),
                               rnd.randint(1, 30), rnd.randint(101, 2808))


DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "gmail.com", "example.cn", "21vianet.com",
           "ctyun.cn", "mail.jinpai.cn"]


def email():
    user = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(rnd.randint(4, 12)))
    if rnd.random() < 0.3:
        user += "." + "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 6)))
    return user + "@" + rnd.choice(DOMAINS)


def ipv4():
    return ".".join(str(rnd.randint(1, 254)) for _ in range(4))


def ipv6():
    groups = ["%x" % rnd.randint(0, 0xffff) for _ in range(8)]
    if rnd.random() < 0.5:
        groups = ["2001", "db8"] + groups[2:]
        return ":".join(groups[:3]) + "::" + ":".join(groups[6:])
    return ":".join(groups)


def mac(style=0):
    b = [rnd.randint(0, 255) for _ in range(6)]
    if style == 1:
        return "-".join("%02X" % x for x in b)
    if style == 2:
        return "%02x%02x.%02x%02x.%02x%02x" % tuple(b)
    return ":".join("%02x" % x for x in b)


def hexstr(n):
    return "".join(rnd.choice("0123456789abcdef") for _ in range(n))


def digits(n, first="123456789"):
    return rnd.choice(first) + "".join(rnd.choice("0123456789") for _ in range(n - 1))


def order_no():
    return "2024%02d%02d" % (rnd.randint(1, 12), rnd.randint(1, 28)) + digits(10, "0123456789")


# ---------------------------------------------------------------- tables
# (table, [(column, sql type, truth, generator, null share)])
TABLES = [
    ("customers", [
        ("id", "bigint", "none", lambda i: str(i), 0),
        ("sjh", "text", "personal.contact.phone", lambda i: mobile(), 0.05),
        ("sfzh", "text", "personal.identity.id_number", lambda i: resident_id(), 0.05),
        ("xingming", "text", "personal.name", lambda i: person_name(), 0),
        ("jtdz", "text", "personal.contact.address", lambda i: address(), 0.1),
        ("yx", "text", "personal.contact.email", lambda i: email(), 0.2),
        ("created_on", "text", "none", lambda i: "2024-%02d-%02d" % (rnd.randint(1, 12), rnd.randint(1, 28)), 0),
    ]),
    ("联系人", [
        ("编号", "integer", "none", lambda i: str(i), 0),
        ("姓名", "text", "personal.name", lambda i: person_name(), 0),
        ("手机号", "text", "personal.contact.phone", lambda i: mobile(rnd.choice([0, 1, 2])), 0),
        ("身份证号", "varchar(18)", "personal.identity.id_number", lambda i: resident_id(lower_x=True), 0.3),
        ("家庭住址", "text", "personal.contact.address", lambda i: address(), 0),
        ("备注", "text", "none", lambda i: rnd.choice(["VIP", "老客户", "待回访", "无"]), 0.5),
    ]),
    # neutral names: only the values can tell
    ("blob_a", [
        ("f1", "text", "personal.contact.phone", lambda i: mobile(), 0.02),
        ("f2", "bigint", "personal.contact.phone", lambda i: mobile(), 0),
        ("f3", "text", "personal.identity.id_number", lambda i: resident_id(), 0),
        ("f4", "text", "enterprise.tax_id", lambda i: uscc(), 0),
        ("f5", "text", "payment.instrument_number", lambda i: card(), 0),
        ("f6", "text", "payment.instrument_number", lambda i: card(grouped=True), 0.1),
        ("f7", "numeric(19)", "payment.instrument_number", lambda i: card(), 0),
        ("f8", "text", "personal.contact.email", lambda i: email(), 0),
        ("f9", "text", "device.ip_address", lambda i: ipv4(), 0),
    ]),
    ("blob_b", [
        ("g1", "text", "device.ip_address", lambda i: ipv6(), 0),
        ("g2", "inet", "device.ip_address", lambda i: ipv4() if rnd.random() < 0.7 else ipv6(), 0),
        ("g3", "text", "device.mac_address", lambda i: mac(0), 0),
        ("g4", "text", "device.mac_address", lambda i: mac(1), 0),
        ("g5", "macaddr", "device.mac_address", lambda i: mac(0), 0),
        ("g6", "text", "device.mac_address", lambda i: mac(2), 0),
        ("g7", "text", "enterprise.tax_id", lambda i: uscc(), 0.1),
        ("g8", "text", "personal.identity.id_number", lambda i: resident_id(), 0),
    ]),
    ("companies", [
        ("company_id", "bigint", "none", lambda i: str(i), 0),
        ("company_name", "text", "none", lambda i: rnd.choice(["世纪互联", "天翼云", "金牌邮箱", "某某科技"]) + "有限公司", 0),
        ("tyshxydm", "text", "enterprise.tax_id", lambda i: uscc(), 0),
        ("contact_phone", "text", "personal.contact.phone", lambda i: mobile(), 0),
        ("contact_email", "text", "personal.contact.email", lambda i: email(), 0),
        ("server_ip", "text", "device.ip_address", lambda i: ipv4(), 0),
        ("wifi_mac", "text", "device.mac_address", lambda i: mac(0), 0),
        ("bank_card", "text", "payment.instrument_number", lambda i: card(), 0),
    ]),
    # decoys: none of them is personal
    ("decoys", [
        ("h1", "text", "none", lambda i: hexstr(32), 0),                       # md5
        ("h2", "text", "none", lambda i: hexstr(40), 0),                       # sha1
        ("h3", "text", "none", lambda i: order_no(), 0),                       # 18-digit order numbers
        ("h4", "text", "none", lambda i: digits(16), 0),                       # 16-digit order numbers
        ("h5", "text", "none", lambda i: resident_id_bad(), 0),                # bad ID check digits
        ("h6", "text", "none", lambda i: digits(12, "1"), 0),                  # 12-digit, phone-like
        ("h7", "text", "none", lambda i: rnd.choice(NOT_SEGMENTS) + digits(8, "0123456789"), 0),
        ("h8", "text", "none", lambda i: card_bad(), 0),                       # Luhn fails
        ("h9", "text", "none", lambda i: uscc_bad(), 0),                       # bad USCC check
        ("h10", "text", "none", lambda i: "%d.%d.%d" % (rnd.randint(0, 9), rnd.randint(0, 20), rnd.randint(0, 99)), 0),
        ("h11", "text", "none", lambda i: "%s-%s-%s-%s-%s" % (hexstr(8), hexstr(4), hexstr(4), hexstr(4), hexstr(12)), 0),
        ("h12", "bigint", "none", lambda i: digits(11, "0123456789"), 0),      # 11 random digits
        ("h13", "text", "none", lambda i: "%06d" % rnd.randint(100000, 999999), 0),   # postcodes
        ("h14", "text", "none", lambda i: "%d.%02d" % (rnd.randint(0, 99999), rnd.randint(0, 99)), 0),
        ("h15", "text", "none", lambda i: "010-%08d" % rnd.randint(0, 99999999), 0),   # landline-like switchboard
        ("product_name", "text", "none", lambda i: rnd.choice(["云主机", "对象存储", "Office 365", "邮箱企业版"]), 0),
        ("name", "text", "none", lambda i: rnd.choice(["alpha", "beta", "gamma", "delta"]), 0),
        ("order_no", "text", "none", lambda i: order_no(), 0),
        ("sha256", "text", "none", lambda i: hexstr(64), 0),
        ("url", "text", "none", lambda i: "https://www.example.cn/p/%d" % rnd.randint(1, 10**6), 0),
    ]),
]


def sql_literal(v):
    return "'" + v.replace("'", "''") + "'"


def copy_value(v):
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def main():
    out = []
    out.append("-- test/corpus/corpus.sql: generated by test/corpus/generate.py (seed %d); do not edit." % SEED)
    out.append("-- The labelled corpus of PII discovery: every column of schema corpus, its true")
    out.append("-- category (or 'none') in corpus.truth.")
    out.append("DROP SCHEMA IF EXISTS corpus CASCADE;")
    out.append("CREATE SCHEMA corpus;")
    out.append("CREATE TABLE corpus.truth (tbl text, col text, category text, PRIMARY KEY (tbl, col));")
    for table, cols in TABLES:
        out.append("CREATE TABLE corpus.%s (%s);" % (
            '"%s"' % table, ", ".join('"%s" %s' % (c, t) for c, t, _, _, _ in cols)))
        for c, _, truth, _, _ in cols:
            out.append("INSERT INTO corpus.truth VALUES (%s, %s, %s);" % (
                sql_literal(table), sql_literal(c), sql_literal(truth)))
        out.append('COPY corpus."%s" FROM stdin;' % table)
        for i in range(1, ROWS + 1):
            row = []
            for _, _, _, gen, nulls in cols:
                v = gen(i)
                row.append("\\N" if nulls and rnd.random() < nulls else copy_value(v))
            out.append("\t".join(row))
        out.append("\\.")
    out.append("ANALYZE corpus.truth;")
    print("\n".join(out))


main()
