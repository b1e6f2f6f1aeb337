"""Build ``common-passwords-fr.txt``, the French complement of Django's list of common passwords.

Run it from the repository root after editing the word lists below, and commit its output::

    .venv/bin/python moncompte/accounts/data/build_french_passwords.py

The output holds one password per line, in lower case, without accents, sorted, without
duplicates. It complements Django's ``common-passwords.txt.gz`` (20,000 passwords, mostly from
English-speaking leaks) with what people in France choose: French words and first names, cities
and football clubs, AZERTY keyboard walks, names of this very service, each alone and followed by
the digits and symbols people add to pass composition rules ("soleil2021", "marseille13",
"jetaime!").

moncompte.accounts.passwords also strips the digits and symbols at both ends of a password before
looking it up ("Azerty2021!" is refused because "azerty" is listed), so the variants written here
mostly serve other readers of the file; the base words are what matters.

Pure standard library, no Django: the script runs without settings.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent / "common-passwords-fr.txt"

# First names frequent in France, across generations (INSEE first name files, top ranks).
FIRST_NAMES = """
adam adele adrien agathe agnes alain alais albert alexandra alexandre alexis alice alicia aline
alix amandine ambre amelie anais andre andrea angele angelique anne annie anthony antoine
antonin apolline arnaud arthur audrey aurelie aurore axel axelle baptiste bastien beatrice
benjamin benoit bernadette bernard bertrand brigitte bruno camille capucine carine carole
caroline catherine cecile celia celine chantal charles charlie charlotte chloe christelle
christian christiane christine christophe claire clara claude claudine clement clemence
colette coline corinne cyril cyrille damien daniel danielle david delphine denis denise
didier dominique dylan eden edouard elena eliane elias elisa elise elodie eloise elsa emile
emilie emma emmanuel emmanuelle enzo eric erwan estelle ethan etienne eva evelyne fabien
fabienne fabrice fanny felix fernand florence florent florian francis francine francois
francoise frederic gabriel gabrielle gael gaelle gaetan genevieve georges gerard germaine
gilbert gilles ginette gisele guillaume guy helene henri herve hugo hugues ines irene
isabelle jacqueline jacques jade jean jeanne jeannine jennifer jeremy jerome joel johan
jonathan jordan joseph josette josiane jules julia julie julien juliette justine karine kevin
laetitia laura laure laurence laurent lea lea leane leila lena leo leon leonie lilou lina
lisa loic lola lou louane louis louise luc lucas lucie lucien lucile ludovic luna madeleine
maelle maelys manon marc marcel marguerite maria marie marine marion martine mathieu mathilde
mathis matteo maurice max maxence maxime melanie melissa michel micheline michele mickael
mila monique morgane myriam nadia nadine nathalie nathan nicolas nicole noa noah noe noemie
nolan oceane odette olivier oscar pascal pascale patrice patricia patrick paul pauline
philippe pierre quentin rachel raphael raymond regis remi renee robert rolande romain rose
roger sabine sacha salome samuel sandra sandrine sarah sebastien serge severine simon
simone solene sophie stephane stephanie suzanne sylvain sylvie tess theo thierry thomas
timothee tom valentin valerie vanessa veronique victor victoria vincent virginie xavier
yann yannick yvette yves yvonne zoe mohamed mehdi karim nabil rachid samir sofiane yassine
youssef amine bilal ilyes rayan yanis nour sarah fatima aicha myriam yasmine amira
""".split()

# Cities, regions and overseas territories.
PLACES = """
paris marseille lyon toulouse nice nantes strasbourg montpellier bordeaux lille rennes reims
toulon grenoble dijon angers nimes brest tours amiens limoges perpignan metz besancon orleans
rouen mulhouse caen nancy avignon poitiers lorient ajaccio bastia calais dunkerque cannes
antibes annecy chambery pau bayonne biarritz larochelle vannes quimper cherbourg lehavre
valence troyes laval lemans clermont clermontferrand saintetienne saintmalo argenteuil
montreuil versailles nanterre vitry creteil aubervilliers colombes boulogne roubaix tourcoing
villeurbanne france bretagne normandie provence alsace lorraine corse savoie vendee picardie
auvergne bourgogne aquitaine occitanie champagne ardennes jura vosges pyrenees camargue
martinique guadeloupe guyane reunion mayotte tahiti noumea cayenne fortdefrance pointeapitre
saintdenis saintpierre caledonie polynesie marseillais parisien lyonnais breton
""".split()

# Football (and rugby) clubs, their chants and players.
CLUBS = """
om psg ol asse losc ogcn fcn rcl srfc aja asm fcgb tfc mhsc rcsa ogcnice girondins fcnantes
rclens staderennais asmonaco saintetienne olympique olympiquedemarseille olympiquelyonnais
parissaintgermain allezlom allezparis allezlyon allezlesverts allezlesbleus teamom teampsg
ohmarseille droitaubut lesbleus equipedefrance zidane zizou mbappe griezmann benzema ribery
henry platini pogba giroud kante cantona papin deschamps payet stadetoulousain rctoulon
asmclermont xvdefrance dupont
""".split()

# Common words and terms of endearment.
WORDS = """
soleil bonjour bonsoir salut coucou amour amoureux amoureuse jetaime jetadore jetaimefort
jetaimemonamour monamour mamour moncoeur moncheri machérie macherie cheri cherie chouchou
loulou doudou doudoune minou minette nounours nounou pupuce puce bichette poupette
choupette choupinou chipie crapule coquine coquin canaille tresor pepite bebe bisous bisou
bizou calin liberte egalite fraternite maison famille bonheur papillon chocolat vacances
musique etoile fleur printemps ete hiver automne mer plage montagne cheval chien chat chaton
tigre lion dauphin tortue poisson oiseau maman papa mamie papi papy mamy mamounette papounet
fifille fiston enfant enfants copain copine amitie rouge bleu vert jaune noir blanc violet
orange rose marron gris fromage baguette croissant camembert pastis ricard biere champagne
nutella fraise framboise cerise pomme banane citron vanille caramel cannelle gateau bonbon
sucre miel poulet dragon tonnerre orage nuage lune ciel terre ange demon diable dieu jesus
paradis enfer secret motdepasse monmotdepasse mdp mot2passe motdepass bienvenue merci
pardon toto tata titi tutu toutou lolo lili nana nono jojo fifi mimi kiki coco riri gege
juju boubou beaugosse bogosse mignon mignonne fou folle ouistiti hibou chouette renard loup
ours souris lapin lapinou cochon vache mouton canard poussin abeille coccinelle grenouille
escargot requin baleine pirate ninja sorcier magie fee licorne sirene perle diamant rubis
saphir emeraude bijou cadeau noel paques anniversaire mariage naissance voyage travail ecole
college lycee universite docteur infirmiere pompier policier gendarme militaire soldat armee
boulanger cuisine jardin tulipe marguerite violette lilas muguet jasmin lavande orchidee
tournesol coquelicot princesse prince reine roi chevalier chateau fleurbleue petitange
petitprince petitchat bouboule grosbisous bebechat bebecoeur filou gribouille noisette
cacahuete pistache praline nougat guimauve crepe galette tartiflette raclette fondue
pasteque melon peche abricot prune mirabelle myrtille kiwi mangue ananas coquillage
sardine homard crevette pingouin panda koala girafe zebre elephant singe gorille chameau
hirondelle papillons etoiles fleurs soleils bonjours amours anges toujours jamais demain
aujourdhui hier rien tout personne quelquun bravo super genial cool trop tropbien
toutvabien cavabien jesuis moi toi nous vous lui elle amis amies frere soeur cousin cousine
tonton tata tatie parrain marraine filleul filleule jumeaux jumelles mamouth
poussinette mabiche monlapin monange monbebe monbijou montresor moncanard mapuce mabelle
monchou monchat maminette boubou lamour lavie labelle lebeau lavieestbelle carpediem
hakunamatata inchallah bismillah alhamdulillah allah mecque maroc algerie tunisie senegal
portugal espagne italie belgique suisse quebec canada afrique europe amerique football foot
footballeur rugby tennis basket handball velo danse judo karate boxe equitation natation
peche chasse moto voiture tracteur quad scooter playstation nintendo minecraft fortnite
pokemon pikachu mario zelda naruto goku dragonball onepiece harrypotter starwars
""".split()

# Words of this service and of the services people use alongside it.
SERVICE_WORDS = """
caf lacaf moncaf cafcaf allocation allocations allocataire allocfam allocationsfamiliales
moncompte monespace compte espace rsa apl aah prime primeactivite logement
securitesociale secu ameli impots impotgouv franceconnect laposte poleemploi franceTravail
francetravail mutuelle cpam msa urssaf retraite carsat orange free sfr bouygues
wanadoo hotmail gmail yahoo laposte facebook instagram snapchat tiktok
""".split()

# AZERTY keyboard walks, digit runs and other patterns typed without thinking.
KEYBOARD = """
azerty azertyuiop azertyuiopqsdfghjklm azertyuiopqsdfghjklmwxcvbn qsdfghjklm qsdfgh qsdf
wxcvbn wxcvbn,;:! wxcvbn123 azeqsdwxc azerqsdfwxcv aqwzsxedc aqwzsxedcrfv aqwzsx azerqsdf
azer azerazer azertyazerty azertyqwerty qwertyazerty poiuytreza mlkjhgfdsq nbvcxw
a1z2e3r4t5y6 1a2z3e4r5t6y azerty1 azerty12 azerty123 azerty1234 azerty12345 azerty123456
&é"'(-è_çà) &é"'(-è_çà &é"'( 1234567890° azertyuiop^$ qsdfghjklmù azertyuiop1234567890
azeaze azeqsd azeazeaze qsdqsd wxcwxc zqsd zqsdzqsd azertyu azertyui a1z2e3 aze123
123soleil 1234567890azerty azerty0000 000000000000 111111111111 123456789012 1234567890123
0123456789 01234567890 123123123123 121212121212 123451234512 azerty00 azertyazertyazerty
""".split()

WORD_LISTS = [FIRST_NAMES, PLACES, CLUBS, WORDS, SERVICE_WORDS]

# What people append: short runs, years, départements (13 Marseille, 75 Paris, 69 Lyon, 93...),
# and the "!" that composition rules asked for.
SUFFIXES = [
    "",
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "123456",
    "01",
    "00",
    "007",
    "13",
    "69",
    "75",
    "93",
    "974",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "2025",
    "!",
    "1!",
    "123!",
    "2024!",
]
# Keyboard walks already end in digits or symbols more often than not: fewer variants.
KEYBOARD_SUFFIXES = ["", "1", "123", "!"]


def normalize(word: str) -> str:
    """Lower case, accents removed, as moncompte.accounts.passwords compares them."""
    decomposed = unicodedata.normalize("NFKD", word.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def build() -> list[str]:
    entries: set[str] = set()
    lists = [(words, SUFFIXES) for words in WORD_LISTS] + [(KEYBOARD, KEYBOARD_SUFFIXES)]
    for words, suffixes in lists:
        for word in words:
            base = normalize(word)
            if base:
                entries.update(base + suffix for suffix in suffixes)
    return sorted(entries)


def main() -> int:
    entries = build()
    OUTPUT.write_text("\n".join(entries) + "\n", encoding="utf-8")
    sys.stdout.write(f"{len(entries)} entries written to {OUTPUT}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
