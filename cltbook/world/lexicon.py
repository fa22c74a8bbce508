"""The world's words: people, countable objects, days, places and sentence templates, per language.

Everything here is a plain table meant to be reviewed by a speaker of the language. The code that
fills the templates (grammar that depends on a word: Korean particles, French elision, Arabic verb
gender) lives in :func:`fill`.

Placeholders in the templates:
``{S}`` the sentence's subject (a name), ``{O}`` the other person (recipient, giver, friend),
``{pro}`` the subject's pronoun (lower case; the sentence is capitalized afterwards), ``{n}`` a
number in ASCII digits, ``{obj}`` the object noun, ``{cl}`` its counter, ``{day}``, ``{place}``.
Derived forms: ``{S_top}``/``{obj_acc}`` (Korean topic and object particles, chosen by batchim),
``{de_O}``/``{de_obj}`` (French "de" with elision), ``{how_many}`` (Spanish/Portuguese
Cuántos/Cuántas, Quantos/Quantas by the noun's gender).

A template is either one string or a (masculine, feminine) pair chosen by the subject's gender:
Arabic verbs agree with their subject, and Spanish/Portuguese/French "friend" agrees with the friend.

Quantities are always >= 2 (see :mod:`cltbook.world.math`), so only plural forms are needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping

# Column order of the PEOPLE table.
_NAME_COLUMNS = ("en", "es", "fr", "pt", "ja", "zh", "ko", "ar")


@dataclass(frozen=True)
class Person:
    gender: str  # "f" or "m": pronouns (she/elle/ela/她) and Arabic verb agreement
    names: Mapping[str, str]


# The same person in every language: Latin-script languages use the local form of the name
# (María/Marie/Maria), the others transliterate it. Shared or near-shared forms are part of the
# lexical overlap that drives transfer. "Paul" is avoided: its usual Arabic spelling بول also means
# "urine".
_PEOPLE = (
    # gender, then the name in en es fr pt ja zh ko ar (_NAME_COLUMNS)
    ("f", "Maria", "María", "Marie", "Maria", "マリア", "玛丽亚", "마리아", "ماريا"),
    ("f", "Anna", "Ana", "Anne", "Ana", "アンナ", "安娜", "안나", "آنا"),
    ("f", "Sophia", "Sofía", "Sophie", "Sofia", "ソフィア", "索菲亚", "소피아", "صوفيا"),
    ("f", "Laura", "Laura", "Laure", "Laura", "ローラ", "劳拉", "로라", "لورا"),
    ("f", "Emma", "Emma", "Emma", "Emma", "エマ", "艾玛", "엠마", "إيما"),
    ("f", "Clara", "Clara", "Claire", "Clara", "クララ", "克拉拉", "클라라", "كلارا"),
    ("f", "Lucy", "Lucía", "Lucie", "Lúcia", "ルーシー", "露西", "루시", "لوسي"),
    ("f", "Elena", "Elena", "Hélène", "Helena", "エレナ", "埃琳娜", "엘레나", "إيلينا"),
    ("m", "John", "Juan", "Jean", "João", "ジョン", "约翰", "존", "جون"),
    ("m", "David", "David", "David", "Davi", "デイビッド", "大卫", "데이비드", "ديفيد"),
    ("m", "Charles", "Carlos", "Charles", "Carlos", "チャールズ", "查尔斯", "찰스", "تشارلز"),
    ("m", "Peter", "Pedro", "Pierre", "Pedro", "ピーター", "彼得", "피터", "بيتر"),
    ("m", "Mark", "Marcos", "Marc", "Marcos", "マーク", "马克", "마크", "مارك"),
    ("m", "Thomas", "Tomás", "Thomas", "Tomás", "トーマス", "托马斯", "토마스", "توماس"),
    ("m", "Daniel", "Daniel", "Daniel", "Daniel", "ダニエル", "丹尼尔", "다니엘", "دانيال"),
    ("m", "Luke", "Lucas", "Luc", "Lucas", "ルーク", "卢克", "루크", "لوك"),
)
PEOPLE: tuple[Person, ...] = tuple(
    Person(gender, MappingProxyType(dict(zip(_NAME_COLUMNS, names)))) for gender, *names in _PEOPLE
)


@dataclass(frozen=True)
class Noun:
    """A countable object in one language.

    ``word``: the plural (en/es/fr/pt), the bare noun (ja/zh/ko), or the definite plural (ar).
    ``counter``: how the noun is counted: the classifier/counter (ja/zh/ko) or, in Arabic, the
    accusative singular that follows كم ("how many"). ``feminine``: grammatical gender (es/pt).
    """

    word: str
    counter: str = ""
    feminine: bool = False


def _nouns(en, es, fr, pt, ja, zh, ko, ar) -> Mapping[str, Noun]:
    """One object row: es/pt are (plural, gender), ja/zh/ko (noun, counter), ar (plural, singular)."""
    return MappingProxyType({
        "en": Noun(en), "fr": Noun(fr),
        "es": Noun(es[0], feminine=es[1] == "f"), "pt": Noun(pt[0], feminine=pt[1] == "f"),
        "ja": Noun(*ja), "zh": Noun(*zh), "ko": Noun(*ko), "ar": Noun(*ar),
    })


# Arabic number agreement (3-10 take a genitive plural of reversed gender, 11-99 an accusative
# singular, ...) is sidestepped by writing "N من <definite plural>" ("12 من التفاح", "12 of the
# apples"), which is grammatical for every N. Japanese counts flat things (cookies, stamps, shirts,
# coins) with 枚 and long things (pens, cut flowers) with 本; Chinese and Korean likewise use the
# noun's measure word rather than the generic 个/개 where one is expected.
OBJECTS: Mapping[str, Mapping[str, Noun]] = MappingProxyType({
    "apple": _nouns("apples", ("manzanas", "f"), "pommes", ("maçãs", "f"),
                    ("りんご", "個"), ("苹果", "个"), ("사과", "개"), ("التفاح", "تفاحةً")),
    "book": _nouns("books", ("libros", "m"), "livres", ("livros", "m"),
                   ("本", "冊"), ("书", "本"), ("책", "권"), ("الكتب", "كتابًا")),
    "pen": _nouns("pens", ("bolígrafos", "m"), "stylos", ("canetas", "f"),
                  ("ペン", "本"), ("笔", "支"), ("펜", "자루"), ("الأقلام", "قلمًا")),
    "egg": _nouns("eggs", ("huevos", "m"), "œufs", ("ovos", "m"),
                  ("卵", "個"), ("鸡蛋", "个"), ("달걀", "개"), ("البيض", "بيضةً")),
    "cookie": _nouns("cookies", ("galletas", "f"), "biscuits", ("biscoitos", "m"),
                     ("クッキー", "枚"), ("饼干", "块"), ("쿠키", "개"), ("البسكويت", "قطعةَ بسكويت")),
    "flower": _nouns("flowers", ("flores", "f"), "fleurs", ("flores", "f"),
                     ("花", "本"), ("花", "朵"), ("꽃", "송이"), ("الزهور", "زهرةً")),
    "stamp": _nouns("stamps", ("sellos", "m"), "timbres", ("selos", "m"),
                    ("切手", "枚"), ("邮票", "张"), ("우표", "장"), ("الطوابع", "طابعًا")),
    "marble": _nouns("marbles", ("canicas", "f"), "billes", ("bolinhas de gude", "f"),
                     ("ビー玉", "個"), ("弹珠", "颗"), ("구슬", "개"), ("الكرات الزجاجية", "كرةً زجاجيةً")),
    "cup": _nouns("cups", ("tazas", "f"), "tasses", ("xícaras", "f"),
                  ("カップ", "個"), ("杯子", "个"), ("컵", "개"), ("الأكواب", "كوبًا")),
    "shirt": _nouns("shirts", ("camisas", "f"), "chemises", ("camisas", "f"),
                    ("シャツ", "枚"), ("衬衫", "件"), ("셔츠", "장"), ("القمصان", "قميصًا")),
    "ball": _nouns("balls", ("pelotas", "f"), "ballons", ("bolas", "f"),
                   ("ボール", "個"), ("球", "个"), ("공", "개"), ("الكرات", "كرةً")),
    "coin": _nouns("coins", ("monedas", "f"), "pièces", ("moedas", "f"),
                   ("コイン", "枚"), ("硬币", "枚"), ("동전", "개"), ("العملات المعدنية", "عملةً معدنيةً")),
})
OBJECT_KEYS: tuple[str, ...] = tuple(OBJECTS)
# Only these can be eaten; the other objects are given away or lost instead.
EDIBLE = frozenset({"apple", "egg", "cookie"})

# Verbs of the two operations. "receive" and "give" involve the other person ({O}).
ADD_VERBS = ("buy", "receive", "find")
SUB_VERBS = ("give", "eat", "lose")


def verb_options(op: str, obj: str) -> tuple[str, ...]:
    """The verbs that can tell operation ``op`` ("add"/"sub") on object ``obj``."""
    if op == "add":
        return ADD_VERBS
    return SUB_VERBS if obj in EDIBLE else tuple(v for v in SUB_VERBS if v != "eat")

# Days as sentence-initial adverbials where the language puts them first ("On Monday, ...").
DAYS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": ("On Monday", "On Wednesday", "On Friday", "On Saturday", "On Sunday"),
    "es": ("El lunes", "El miércoles", "El viernes", "El sábado", "El domingo"),
    "fr": ("Lundi", "Mercredi", "Vendredi", "Samedi", "Dimanche"),
    "pt": ("Na segunda-feira", "Na quarta-feira", "Na sexta-feira", "No sábado", "No domingo"),
    "ja": ("月曜日", "水曜日", "金曜日", "土曜日", "日曜日"),
    "zh": ("星期一", "星期三", "星期五", "星期六", "星期天"),
    "ko": ("월요일", "수요일", "금요일", "토요일", "일요일"),
    "ar": ("الاثنين", "الأربعاء", "الجمعة", "السبت", "الأحد"),
})
# Places with the preposition/article contraction they take after "goes" (al/au/ao, à la/à l').
PLACES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": ("to the market", "to school", "to the park", "to the library"),
    "es": ("al mercado", "a la escuela", "al parque", "a la biblioteca"),
    "fr": ("au marché", "à l'école", "au parc", "à la bibliothèque"),
    "pt": ("ao mercado", "à escola", "ao parque", "à biblioteca"),
    "ja": ("市場", "学校", "公園", "図書館"),
    "zh": ("市场", "学校", "公园", "图书馆"),
    "ko": ("시장", "학교", "공원", "도서관"),
    "ar": ("السوق", "المدرسة", "الحديقة", "المكتبة"),
})

# Sentence templates. "have" opens a story; the verbs are one event each; "question" ends a math
# problem; "now" states an event's outcome (corpus only); "day" and "friend" are corpus filler.
# "then" are the connectors that open the 2nd and 3rd step of a problem, with their own spacing.
# Problems are told in the present tense in every language (Chinese marks completed events with 了).
# Spanish drops the subject pronoun, as is natural; Japanese and Korean omit the subject after the
# first sentence and are SOV; all use the polite register (-ます, -습니다) of the answer templates.
TEMPLATES: Mapping[str, Mapping[str, str | tuple[str, str]]] = MappingProxyType({
    "en": {
        "have": "{S} has {n} {obj}.",
        "buy": "{pro} buys {n} more {obj}.",
        "receive": "{pro} gets {n} {obj} from {O}.",
        "find": "{pro} finds {n} more {obj}.",
        "give": "{pro} gives {n} {obj} to {O}.",
        "eat": "{pro} eats {n} {obj}.",
        "lose": "{pro} loses {n} {obj}.",
        "question": "How many {obj} does {S} have now?",
        "now": "now {pro} has {n} {obj}.",
        "then": ("Then ", "After that, "),
        "day": "{day}, {S} goes {place}.",
        "friend": "{S} is {O}'s friend.",
    },
    "es": {
        "have": "{S} tiene {n} {obj}.",
        "buy": "compra {n} {obj} más.",
        "receive": "recibe {n} {obj} de {O}.",
        "find": "encuentra {n} {obj} más.",
        "give": "le da {n} {obj} a {O}.",
        "eat": "se come {n} {obj}.",
        "lose": "pierde {n} {obj}.",
        "question": "¿{how_many} {obj} tiene {S} ahora?",
        "now": "ahora tiene {n} {obj}.",
        "then": ("Luego ", "Después "),
        "day": "{day}, {S} va {place}.",
        "friend": ("{S} es amigo de {O}.", "{S} es amiga de {O}."),
    },
    "fr": {
        "have": "{S} a {n} {obj}.",
        "buy": "{pro} achète encore {n} {obj}.",
        "receive": "{pro} reçoit {n} {obj} {de_O}.",
        "find": "{pro} trouve encore {n} {obj}.",
        "give": "{pro} donne {n} {obj} à {O}.",
        "eat": "{pro} mange {n} {obj}.",
        "lose": "{pro} perd {n} {obj}.",
        # Complex inversion, the standard written question with a noun subject.
        "question": "Combien {de_obj} {S} a-t-{pro} maintenant ?",
        "now": "maintenant, {pro} a {n} {obj}.",
        "then": ("Puis ", "Ensuite, "),
        "day": "{day}, {S} va {place}.",
        "friend": ("{S} est un ami {de_O}.", "{S} est une amie {de_O}."),
    },
    "pt": {
        "have": "{S} tem {n} {obj}.",
        "buy": "{pro} compra mais {n} {obj}.",
        "receive": "{pro} recebe {n} {obj} de {O}.",
        "find": "{pro} encontra mais {n} {obj}.",
        "give": "{pro} dá {n} {obj} para {O}.",
        "eat": "{pro} come {n} {obj}.",
        "lose": "{pro} perde {n} {obj}.",
        "question": "{how_many} {obj} {S} tem agora?",
        "now": "agora {pro} tem {n} {obj}.",
        "then": ("Depois ", "Em seguida, "),
        "day": "{day}, {S} vai {place}.",
        "friend": ("{S} é amigo de {O}.", "{S} é amiga de {O}."),
    },
    "ja": {
        "have": "{S}は{obj}を{n}{cl}持っています。",
        "buy": "{obj}をさらに{n}{cl}買います。",
        "receive": "{O}から{obj}を{n}{cl}もらいます。",
        "find": "{obj}をさらに{n}{cl}見つけます。",
        "give": "{O}に{obj}を{n}{cl}あげます。",
        "eat": "{obj}を{n}{cl}食べます。",
        "lose": "{obj}を{n}{cl}なくします。",
        "question": "{S}は今{obj}を何{cl}持っていますか？",
        "now": "今、{S}は{obj}を{n}{cl}持っています。",
        "then": ("それから、", "そのあと、"),
        "day": "{day}に、{S}は{place}に行きます。",
        "friend": "{S}は{O}の友達です。",
    },
    "zh": {
        "have": "{S}有{n}{cl}{obj}。",
        "buy": "{pro}又买了{n}{cl}{obj}。",
        "receive": "{pro}从{O}那里得到了{n}{cl}{obj}。",
        "find": "{pro}又找到了{n}{cl}{obj}。",
        "give": "{pro}给了{O}{n}{cl}{obj}。",
        "eat": "{pro}吃了{n}{cl}{obj}。",
        "lose": "{pro}弄丢了{n}{cl}{obj}。",
        "question": "{S}现在有多少{cl}{obj}？",
        "now": "现在{pro}有{n}{cl}{obj}。",
        "then": ("然后", "之后，"),
        "day": "{S}{day}去{place}。",
        "friend": "{S}是{O}的朋友。",
    },
    "ko": {
        "have": "{S_top} {obj_acc} {n}{cl} 가지고 있습니다.",
        "buy": "{obj_acc} {n}{cl} 더 삽니다.",
        "receive": "{O}에게서 {obj_acc} {n}{cl} 받습니다.",
        "find": "{obj_acc} {n}{cl} 더 찾습니다.",
        "give": "{O}에게 {obj_acc} {n}{cl} 줍니다.",
        "eat": "{obj_acc} {n}{cl} 먹습니다.",
        "lose": "{obj_acc} {n}{cl} 잃어버립니다.",
        "question": "{S_top} 지금 {obj_acc} 몇 {cl} 가지고 있습니까?",
        "now": "이제 {S_top} {obj_acc} {n}{cl} 가지고 있습니다.",
        "then": ("그다음에 ", "그 후에 "),
        "day": "{day}에 {S_top} {place}에 갑니다.",
        "friend": "{S_top} {O}의 친구입니다.",
    },
    # (masculine, feminine): the verb's prefix ي/ت agrees with the subject; "ل" (to) attaches to
    # the name. "لدى" (has) does not inflect; "لديه/لديها" (he/she has) does.
    "ar": {
        "have": "لدى {S} {n} من {obj}.",
        "buy": ("يشتري أيضًا {n} من {obj}.", "تشتري أيضًا {n} من {obj}."),
        "receive": ("يحصل من {O} على {n} من {obj}.", "تحصل من {O} على {n} من {obj}."),
        "find": ("يجد أيضًا {n} من {obj}.", "تجد أيضًا {n} من {obj}."),
        "give": ("يعطي {n} من {obj} ل{O}.", "تعطي {n} من {obj} ل{O}."),
        "eat": ("يأكل {n} من {obj}.", "تأكل {n} من {obj}."),
        "lose": ("يفقد {n} من {obj}.", "تفقد {n} من {obj}."),
        "question": "كم {cl} لدى {S} الآن؟",
        "now": ("الآن لديه {n} من {obj}.", "الآن لديها {n} من {obj}."),
        "then": ("ثم ", "بعد ذلك، "),
        "day": ("يذهب {S} إلى {place} يوم {day}.", "تذهب {S} إلى {place} يوم {day}."),
        "friend": ("{S} صديق {O}.", "{S} صديقة {O}."),
    },
})

PRONOUNS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "en": {"f": "she", "m": "he"},
    "fr": {"f": "elle", "m": "il"},
    "pt": {"f": "ela", "m": "ele"},
    "zh": {"f": "她", "m": "他"},
})

# Languages written without spaces between sentences.
UNSPACED = frozenset({"ja", "zh"})


def join_sentences(language: str, sentences: Iterable[str]) -> str:
    """Sentences as running text; in ja/zh only a sentence ending in ASCII "." (an equation such
    as "12 + 5 = 17.") is followed by a space."""
    if language not in UNSPACED:
        return " ".join(sentences)
    return "".join(s + " " if s.endswith(".") else s for s in sentences).rstrip(" ")


def _has_batchim(word: str) -> bool:
    """Whether a word's last Hangul syllable ends in a consonant (selects 은/이/을 over 는/가/를)."""
    syllable = ord(word[-1]) - 0xAC00
    return 0 <= syllable < 11172 and syllable % 28 != 0


def _ko(word: str, after_consonant: str, after_vowel: str) -> str:
    return word + (after_consonant if _has_batchim(word) else after_vowel)


def _fr_de(word: str) -> str:
    """French "de" with elision before a vowel or mute h: "de pommes", "d'œufs", "d'Hélène"."""
    return ("d'" if word[0].lower() in "aeiouyàâéèêîôœh" else "de ") + word


def fill(language: str, key: str, subject: Person, obj: str | None = None, *,
         other: Person | None = None, n: int | None = None, day: int = 0, place: int = 0,
         opener: str = "") -> str:
    """One sentence: TEMPLATES[language][key] filled for these people, object and number.

    ``opener`` is a connector from TEMPLATES[language]["then"] put in front; the sentence is
    capitalized after it is added ("Then she ...", "She ...").
    """
    template = TEMPLATES[language][key]
    if isinstance(template, tuple):
        template = template[subject.gender == "f"]
    name = subject.names[language]
    other_name = other.names[language] if other is not None else ""
    fields = {
        "S": name, "O": other_name, "n": n,
        "pro": PRONOUNS.get(language, {}).get(subject.gender, ""),
        "day": DAYS[language][day], "place": PLACES[language][place],
    }
    if language == "ko":
        fields["S_top"] = _ko(name, "은", "는")
    elif language == "fr":
        fields["de_O"] = _fr_de(other_name) if other_name else ""
    if obj is not None:
        noun = OBJECTS[obj][language]
        fields.update(obj=noun.word, cl=noun.counter)
        if language == "ko":
            fields["obj_acc"] = _ko(noun.word, "을", "를")
        elif language == "fr":
            fields["de_obj"] = _fr_de(noun.word)
        elif language in ("es", "pt"):
            stem = {"es": "Cuánt", "pt": "Quant"}[language]
            fields["how_many"] = stem + ("as" if noun.feminine else "os")
    sentence = opener + template.format(**fields)
    return sentence[:1].upper() + sentence[1:]
