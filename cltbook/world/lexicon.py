"""The world's words: people, countable objects, days, places, sentence templates and task phrases,
per language.

Everything here is a plain table meant to be reviewed by a speaker of the language. The code that
fills the templates (grammar that depends on a word: Korean particles, French elision, Arabic verb
gender) lives in :func:`fill` (sentences) and :func:`phrase` (pieces of task prompts and answers).

Placeholders in the templates:
``{S}`` the sentence's subject (a name), ``{O}`` the other person (recipient, giver, friend),
``{pro}`` the subject's pronoun (lower case; the sentence is capitalized afterwards), ``{n}`` a
number in ASCII digits, ``{obj}`` the object noun, ``{cl}`` its counter, ``{day}``, ``{place}``.
Derived forms: ``{S_top}``/``{obj_acc}`` (Korean topic and object particles, chosen by batchim),
``{de_O}``/``{de_obj}``/``{de_S}`` (French "de" with elision), ``{how_many}`` (Spanish/Portuguese
Cuántos/Cuántas, Quantos/Quantas by the noun's gender).

A template is either one string or a (masculine, feminine) pair chosen by the subject's gender:
Arabic verbs agree with their subject, and Spanish/Portuguese/French "friend" agrees with the friend.

Quantities are always >= 2 (see :mod:`cltbook.world.arithmetic`), so only plural forms are needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Iterator, Mapping

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
    return MappingProxyType(
        {
            "en": Noun(en),
            "fr": Noun(fr),
            "es": Noun(es[0], feminine=es[1] == "f"),
            "pt": Noun(pt[0], feminine=pt[1] == "f"),
            "ja": Noun(*ja),
            "zh": Noun(*zh),
            "ko": Noun(*ko),
            "ar": Noun(*ar),
        }
    )


# Arabic number agreement (3-10 take a genitive plural of reversed gender, 11-99 an accusative
# singular, ...) is sidestepped by writing "N من <definite plural>" ("12 من التفاح", "12 of the
# apples"), which is grammatical for every N. Japanese counts flat things (cookies, stamps, shirts,
# coins) with 枚 and long things (pens, cut flowers) with 本; Chinese and Korean likewise use the
# noun's measure word rather than the generic 个/개 where one is expected.
OBJECTS: Mapping[str, Mapping[str, Noun]] = MappingProxyType(
    {
        "apple": _nouns(
            "apples",
            ("manzanas", "f"),
            "pommes",
            ("maçãs", "f"),
            ("りんご", "個"),
            ("苹果", "个"),
            ("사과", "개"),
            ("التفاح", "تفاحةً"),
        ),
        "book": _nouns(
            "books",
            ("libros", "m"),
            "livres",
            ("livros", "m"),
            ("本", "冊"),
            ("书", "本"),
            ("책", "권"),
            ("الكتب", "كتابًا"),
        ),
        "pen": _nouns(
            "pens",
            ("bolígrafos", "m"),
            "stylos",
            ("canetas", "f"),
            ("ペン", "本"),
            ("笔", "支"),
            ("펜", "자루"),
            ("الأقلام", "قلمًا"),
        ),
        "egg": _nouns(
            "eggs",
            ("huevos", "m"),
            "œufs",
            ("ovos", "m"),
            ("卵", "個"),
            ("鸡蛋", "个"),
            ("달걀", "개"),
            ("البيض", "بيضةً"),
        ),
        "cookie": _nouns(
            "cookies",
            ("galletas", "f"),
            "biscuits",
            ("biscoitos", "m"),
            ("クッキー", "枚"),
            ("饼干", "块"),
            ("쿠키", "개"),
            ("البسكويت", "قطعةَ بسكويت"),
        ),
        "flower": _nouns(
            "flowers",
            ("flores", "f"),
            "fleurs",
            ("flores", "f"),
            ("花", "本"),
            ("花", "朵"),
            ("꽃", "송이"),
            ("الزهور", "زهرةً"),
        ),
        "stamp": _nouns(
            "stamps",
            ("sellos", "m"),
            "timbres",
            ("selos", "m"),
            ("切手", "枚"),
            ("邮票", "张"),
            ("우표", "장"),
            ("الطوابع", "طابعًا"),
        ),
        "marble": _nouns(
            "marbles",
            ("canicas", "f"),
            "billes",
            ("bolinhas de gude", "f"),
            ("ビー玉", "個"),
            ("弹珠", "颗"),
            ("구슬", "개"),
            ("الكرات الزجاجية", "كرةً زجاجيةً"),
        ),
        "cup": _nouns(
            "cups",
            ("tazas", "f"),
            "tasses",
            ("xícaras", "f"),
            ("カップ", "個"),
            ("杯子", "个"),
            ("컵", "개"),
            ("الأكواب", "كوبًا"),
        ),
        "shirt": _nouns(
            "shirts",
            ("camisas", "f"),
            "chemises",
            ("camisas", "f"),
            ("シャツ", "枚"),
            ("衬衫", "件"),
            ("셔츠", "장"),
            ("القمصان", "قميصًا"),
        ),
        "ball": _nouns(
            "balls",
            ("pelotas", "f"),
            "ballons",
            ("bolas", "f"),
            ("ボール", "個"),
            ("球", "个"),
            ("공", "개"),
            ("الكرات", "كرةً"),
        ),
        "coin": _nouns(
            "coins",
            ("monedas", "f"),
            "pièces",
            ("moedas", "f"),
            ("コイン", "枚"),
            ("硬币", "枚"),
            ("동전", "개"),
            ("العملات المعدنية", "عملةً معدنيةً"),
        ),
    }
)
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
DAYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "en": ("On Monday", "On Wednesday", "On Friday", "On Saturday", "On Sunday"),
        "es": ("El lunes", "El miércoles", "El viernes", "El sábado", "El domingo"),
        "fr": ("Lundi", "Mercredi", "Vendredi", "Samedi", "Dimanche"),
        "pt": ("Na segunda-feira", "Na quarta-feira", "Na sexta-feira", "No sábado", "No domingo"),
        "ja": ("月曜日", "水曜日", "金曜日", "土曜日", "日曜日"),
        "zh": ("星期一", "星期三", "星期五", "星期六", "星期天"),
        "ko": ("월요일", "수요일", "금요일", "토요일", "일요일"),
        "ar": ("الاثنين", "الأربعاء", "الجمعة", "السبت", "الأحد"),
    }
)
# Places with the preposition/article contraction they take after "goes" (al/au/ao, à la/à l').
PLACES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "en": ("to the market", "to school", "to the park", "to the library"),
        "es": ("al mercado", "a la escuela", "al parque", "a la biblioteca"),
        "fr": ("au marché", "à l'école", "au parc", "à la bibliothèque"),
        "pt": ("ao mercado", "à escola", "ao parque", "à biblioteca"),
        "ja": ("市場", "学校", "公園", "図書館"),
        "zh": ("市场", "学校", "公园", "图书馆"),
        "ko": ("시장", "학교", "공원", "도서관"),
        "ar": ("السوق", "المدرسة", "الحديقة", "المكتبة"),
    }
)

# Sentence templates. "have" opens a story; the verbs are one event each; "question" ends a math
# problem; "now" states an event's outcome (corpus only); "day" and "friend" are corpus filler.
# "then" are the connectors that open the 2nd and 3rd step of a problem, with their own spacing.
# Problems are told in the present tense in every language (Chinese marks completed events with 了).
# Spanish drops the subject pronoun, as is natural; Japanese and Korean omit the subject after the
# first sentence and are SOV; all use the polite register (-ます, -습니다) of the answer templates.
TEMPLATES: Mapping[str, Mapping[str, str | tuple[str, str]]] = MappingProxyType(
    {
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
    }
)

PRONOUNS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": {"f": "she", "m": "he"},
        "fr": {"f": "elle", "m": "il"},
        "pt": {"f": "ela", "m": "ele"},
        "zh": {"f": "她", "m": "他"},
    }
)

# Phrases of the summarization and instruction-following tasks (cltbook.world.summarization,
# cltbook.world.instructions), filled by :func:`phrase` with the placeholders of TEMPLATES plus
# their own. Present tense and polite register as in TEMPLATES.
# Summaries: "summary" frames "{clauses}", the focal person's events joined by "comma" and, before
# the last one, "and". "<verb>_clause" tells one event without its subject; "<verb>_last" is the
# form that ends the sentence where it differs (Japanese て-form / Korean -고 before it, -ます /
# -ㅂ니다 at the end). Arabic summaries are subject-verb-object, the verb agreeing with the subject,
# every clause after the first joined by و.
# Instructions: "list", "count", "length", "keyword" (with {word}), "quote", "ending" (with
# {phrase}, the language's "closing") are the verifiable instructions; "retell" asks for the focal
# person's part of the story; "open_quote"/"close_quote" wrap a quoted answer. The labels end the
# prompt; each has kana in Japanese (まとめ, 答え) like every Japanese sentence of the world.
# A number of words or characters ({n}) is at least 2, so plural forms suffice; Arabic again avoids
# number agreement with "{n} من <definite plural>". Korean puts {word}/{phrase} after a colon, so
# that no particle has to agree with it.
TASK_PHRASES: Mapping[str, Mapping[str, str | tuple[str, str]]] = MappingProxyType(
    {
        "en": {
            "summarize": "Summarize the story in one sentence.",
            "summary_label": "Summary:",
            "summary": "{S} {clauses}.",
            "comma": ", ",
            "and": " and ",
            "buy_clause": "buys {n} {obj}",
            "receive_clause": "gets {n} {obj} from {O}",
            "find_clause": "finds {n} {obj}",
            "give_clause": "gives {n} {obj} to {O}",
            "eat_clause": "eats {n} {obj}",
            "lose_clause": "loses {n} {obj}",
            "retell": "Retell the story of {S}.",
            "response_label": "Response:",
            "list": "Answer with exactly {n} bullet points, each on its own line and starting with “- ”.",
            "count": "Answer in exactly {n} sentences.",
            "length": "Answer in at most {n} words.",
            "keyword": "Include the word “{word}”.",
            "quote": "Put your entire answer in quotation marks (“ ”).",
            "ending": "End your answer with this exact sentence: {phrase}",
            "closing": "That is all.",
            "open_quote": "“",
            "close_quote": "”",
        },
        "es": {
            "summarize": "Resume la historia en una oración.",
            "summary_label": "Resumen:",
            "summary": "{S} {clauses}.",
            "comma": ", ",
            "and": " y ",
            "buy_clause": "compra {n} {obj}",
            "receive_clause": "recibe {n} {obj} de {O}",
            "find_clause": "encuentra {n} {obj}",
            "give_clause": "le da {n} {obj} a {O}",
            "eat_clause": "se come {n} {obj}",
            "lose_clause": "pierde {n} {obj}",
            "retell": "Vuelve a contar la historia de {S}.",
            "response_label": "Respuesta:",
            "list": "Responde con exactamente {n} viñetas, cada una en su propia línea y empezando por «- ».",
            "count": "Responde en exactamente {n} oraciones.",
            "length": "Responde con {n} palabras como máximo.",
            "keyword": "Incluye la palabra «{word}».",
            "quote": "Pon toda tu respuesta entre comillas (« »).",
            "ending": "Termina tu respuesta con esta oración exacta: {phrase}",
            "closing": "Eso es todo.",
            "open_quote": "«",
            "close_quote": "»",
        },
        "fr": {
            "summarize": "Résume l'histoire en une phrase.",
            "summary_label": "Résumé :",
            "summary": "{S} {clauses}.",
            "comma": ", ",
            "and": " et ",
            "buy_clause": "achète {n} {obj}",
            "receive_clause": "reçoit {n} {obj} {de_O}",
            "find_clause": "trouve {n} {obj}",
            "give_clause": "donne {n} {obj} à {O}",
            "eat_clause": "mange {n} {obj}",
            "lose_clause": "perd {n} {obj}",
            "retell": "Raconte à nouveau l'histoire {de_S}.",
            "response_label": "Réponse :",
            "list": "Réponds avec exactement {n} puces, chacune sur sa propre ligne et commençant par « - ».",
            "count": "Réponds en exactement {n} phrases.",
            "length": "Réponds en {n} mots au maximum.",
            "keyword": "Inclus le mot « {word} ».",
            "quote": "Mets toute ta réponse entre guillemets (« »).",
            "ending": "Termine ta réponse par cette phrase exacte : {phrase}",
            "closing": "C'est tout.",
            # French puts a space inside guillemets.
            "open_quote": "« ",
            "close_quote": " »",
        },
        "pt": {
            "summarize": "Resuma a história em uma frase.",
            "summary_label": "Resumo:",
            "summary": "{S} {clauses}.",
            "comma": ", ",
            "and": " e ",
            "buy_clause": "compra {n} {obj}",
            "receive_clause": "recebe {n} {obj} de {O}",
            "find_clause": "encontra {n} {obj}",
            "give_clause": "dá {n} {obj} para {O}",
            "eat_clause": "come {n} {obj}",
            "lose_clause": "perde {n} {obj}",
            "retell": "Reconte a história de {S}.",
            "response_label": "Resposta:",
            "list": "Responda com exatamente {n} tópicos, cada um em sua própria linha e começando com “- ”.",
            "count": "Responda em exatamente {n} frases.",
            "length": "Responda com no máximo {n} palavras.",
            "keyword": "Inclua a palavra “{word}”.",
            "quote": "Coloque toda a sua resposta entre aspas (“ ”).",
            "ending": "Termine sua resposta com esta frase exata: {phrase}",
            "closing": "Isso é tudo.",
            "open_quote": "“",
            "close_quote": "”",
        },
        "ja": {
            "summarize": "この話を一文で要約してください。",
            "summary_label": "まとめ:",
            "summary": "{S}は{clauses}。",
            "comma": "、",
            "and": "、",
            "buy_clause": "{obj}を{n}{cl}買って",
            "receive_clause": "{O}から{obj}を{n}{cl}もらって",
            "find_clause": "{obj}を{n}{cl}見つけて",
            "give_clause": "{O}に{obj}を{n}{cl}あげて",
            "eat_clause": "{obj}を{n}{cl}食べて",
            "lose_clause": "{obj}を{n}{cl}なくして",
            "buy_last": "{obj}を{n}{cl}買います",
            "receive_last": "{O}から{obj}を{n}{cl}もらいます",
            "find_last": "{obj}を{n}{cl}見つけます",
            "give_last": "{O}に{obj}を{n}{cl}あげます",
            "eat_last": "{obj}を{n}{cl}食べます",
            "lose_last": "{obj}を{n}{cl}なくします",
            "retell": "{S}の話をもう一度話してください。",
            "response_label": "答え:",
            "list": "ちょうど{n}個の箇条書きで答えてください。各行は「- 」で始めてください。",
            "count": "ちょうど{n}文で答えてください。",
            "length": "{n}文字以内で答えてください。",
            "keyword": "「{word}」という言葉を入れてください。",
            "quote": "回答全体を「」で囲んでください。",
            "ending": "回答を次の文で終えてください：{phrase}",
            "closing": "以上です。",
            "open_quote": "「",
            "close_quote": "」",
        },
        "zh": {
            "summarize": "请用一句话概括这个故事。",
            "summary_label": "摘要:",
            "summary": "{S}{clauses}。",
            "comma": "，",
            "and": "，然后",
            "buy_clause": "买了{n}{cl}{obj}",
            "receive_clause": "从{O}那里得到了{n}{cl}{obj}",
            "find_clause": "找到了{n}{cl}{obj}",
            "give_clause": "给了{O}{n}{cl}{obj}",
            "eat_clause": "吃了{n}{cl}{obj}",
            "lose_clause": "弄丢了{n}{cl}{obj}",
            "retell": "请复述{S}的故事。",
            "response_label": "回答:",
            "list": "请用恰好{n}个要点回答，每个要点单独一行，以“- ”开头。",
            "count": "请用恰好{n}句话回答。",
            "length": "回答不超过{n}个字。",
            "keyword": "回答中要包含“{word}”这个词。",
            "quote": "请把整个回答放在引号“”里。",
            "ending": "请用这句话结束回答：{phrase}",
            "closing": "就这些。",
            "open_quote": "“",
            "close_quote": "”",
        },
        "ko": {
            "summarize": "이야기를 한 문장으로 요약하세요.",
            "summary_label": "요약:",
            "summary": "{S_top} {clauses}.",
            "comma": " ",
            "and": " ",
            "buy_clause": "{obj_acc} {n}{cl} 사고",
            "receive_clause": "{O}에게서 {obj_acc} {n}{cl} 받고",
            "find_clause": "{obj_acc} {n}{cl} 찾고",
            "give_clause": "{O}에게 {obj_acc} {n}{cl} 주고",
            "eat_clause": "{obj_acc} {n}{cl} 먹고",
            "lose_clause": "{obj_acc} {n}{cl} 잃어버리고",
            "buy_last": "{obj_acc} {n}{cl} 삽니다",
            "receive_last": "{O}에게서 {obj_acc} {n}{cl} 받습니다",
            "find_last": "{obj_acc} {n}{cl} 찾습니다",
            "give_last": "{O}에게 {obj_acc} {n}{cl} 줍니다",
            "eat_last": "{obj_acc} {n}{cl} 먹습니다",
            "lose_last": "{obj_acc} {n}{cl} 잃어버립니다",
            "retell": "{S}의 이야기를 다시 들려주세요.",
            "response_label": "응답:",
            "list": "정확히 {n}개의 글머리 기호로 답하세요. 각 줄은 “- ”로 시작해야 합니다.",
            "count": "정확히 {n}개의 문장으로 답하세요.",
            "length": "{n}단어 이내로 답하세요.",
            "keyword": "다음 단어를 포함하세요: {word}.",
            "quote": "답변 전체를 큰따옴표(“ ”)로 묶으세요.",
            "ending": "다음 문장으로 답변을 끝내세요: {phrase}",
            "closing": "이상입니다.",
            "open_quote": "“",
            "close_quote": "”",
        },
        "ar": {
            "summarize": "لخص القصة في جملة واحدة.",
            "summary_label": "الملخص:",
            "summary": "{S} {clauses}.",
            "comma": " و",
            "and": " و",
            "buy_clause": ("يشتري {n} من {obj}", "تشتري {n} من {obj}"),
            "receive_clause": ("يحصل من {O} على {n} من {obj}", "تحصل من {O} على {n} من {obj}"),
            "find_clause": ("يجد {n} من {obj}", "تجد {n} من {obj}"),
            "give_clause": ("يعطي {n} من {obj} ل{O}", "تعطي {n} من {obj} ل{O}"),
            "eat_clause": ("يأكل {n} من {obj}", "تأكل {n} من {obj}"),
            "lose_clause": ("يفقد {n} من {obj}", "تفقد {n} من {obj}"),
            "retell": "أعد سرد قصة {S}.",
            "response_label": "الرد:",
            "list": "أجب بعدد {n} من النقاط بالضبط، كل نقطة في سطر مستقل وتبدأ بالعلامة «- ».",
            "count": "أجب بعدد {n} من الجمل بالضبط.",
            "length": "أجب بما لا يزيد على {n} من الكلمات.",
            "keyword": "استخدم كلمة «{word}» في إجابتك.",
            "quote": "ضع إجابتك كلها بين علامتي التنصيص « ».",
            "ending": "اختم إجابتك بهذه الجملة بالضبط: {phrase}",
            "closing": "هذا كل شيء.",
            "open_quote": "«",
            "close_quote": "»",
        },
    }
)

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


def _fields(
    language: str, subject: Person | None, obj: str | None, other: Person | None, n: int | None, day: int, place: int
) -> dict[str, object]:
    """The values of every placeholder a template of ``language`` may use (module docstring)."""
    name = subject.names[language] if subject is not None else ""
    other_name = other.names[language] if other is not None else ""
    fields: dict[str, object] = {
        "S": name,
        "O": other_name,
        "n": n,
        "pro": PRONOUNS.get(language, {}).get(subject.gender, "") if subject is not None else "",
        "day": DAYS[language][day],
        "place": PLACES[language][place],
    }
    if language == "ko":
        fields["S_top"] = _ko(name, "은", "는") if name else ""
    elif language == "fr":
        fields["de_O"] = _fr_de(other_name) if other_name else ""
        fields["de_S"] = _fr_de(name) if name else ""
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
    return fields


def _gendered(template: str | tuple[str, str], subject: Person | None) -> str:
    """A (masculine, feminine) template's form for ``subject``; a plain template as it is."""
    if not isinstance(template, tuple):
        return template
    if subject is None:
        raise ValueError(f"the template {template!r} agrees with a subject, and none was given")
    return template[subject.gender == "f"]


def fill(
    language: str,
    key: str,
    subject: Person,
    obj: str | None = None,
    *,
    other: Person | None = None,
    n: int | None = None,
    day: int = 0,
    place: int = 0,
    opener: str = "",
) -> str:
    """One sentence: TEMPLATES[language][key] filled for these people, object and number.

    ``opener`` is a connector from TEMPLATES[language]["then"] put in front; the sentence is
    capitalized after it is added ("Then she ...", "She ...").
    """
    template = _gendered(TEMPLATES[language][key], subject)
    sentence = opener + template.format(**_fields(language, subject, obj, other, n, day, place))
    return sentence[:1].upper() + sentence[1:]


def phrase(
    language: str,
    key: str,
    subject: Person | None = None,
    obj: str | None = None,
    *,
    other: Person | None = None,
    n: int | None = None,
    **extra: object,
) -> str:
    """TASK_PHRASES[language][key] filled as it stands (no capitalization: clauses and frames are
    pieces of sentences). ``extra`` fills the phrase's own placeholders ({clauses}, {word}, ...)."""
    template = _gendered(TASK_PHRASES[language][key], subject)
    return template.format(**_fields(language, subject, obj, other, n, 0, 0), **extra)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def fillings(language: str) -> Iterator[str]:
    """Every template and task phrase of ``language`` filled for every person as subject and every
    object (the other person, day and place rotate), with a two-digit number and the phrase's own
    placeholders left empty; also the connectors. Together they hold every word and character the
    lexicon and :func:`fill` can produce in ``language`` (particles, elisions and agreement
    included): the vocabulary of exact language identification and the tokenizer's alphabet."""
    yield from TEMPLATES[language]["then"]
    tables = [(TEMPLATES[language], True), (TASK_PHRASES[language], False)]
    for i, subject in enumerate(PEOPLE):
        for j, obj in enumerate(OBJECT_KEYS):
            other = PEOPLE[(i + j + 1) % len(PEOPLE)]
            day, place = j % len(DAYS[language]), j % len(PLACES[language])
            fields = _fields(language, subject, obj, other, 12, day, place)
            for table, is_sentence in tables:
                for key, template in table.items():
                    if key != "then":
                        text = _gendered(template, subject).format_map(_Blank(fields))
                        yield text[:1].upper() + text[1:] if is_sentence else text
