package dev.lorastream.launcher;

import java.util.List;

/** The demo's mix of requests: each adapter with prompts of its field, and the plain backbone. */
final class DemoTraffic {
    record Prompt(String adapterId, String tenant, String text) {}

    static final List<Prompt> PROMPTS = List.of(
            new Prompt("dermatology", "clinic-north", "Patient reports an itchy rash on both forearms after gardening."),
            new Prompt("dermatology", "clinic-south", "A mole changed colour and size over three months."),
            new Prompt("dermatology", "clinic-north", "Dry, cracked skin on the hands every winter."),
            new Prompt("cardiology", "clinic-north", "Chest tightness when climbing stairs, relieved by rest."),
            new Prompt("cardiology", "hospital-east", "Resting heart rate 48 in a marathon runner: concern?"),
            new Prompt("cardiology", "hospital-east", "Palpitations after two cups of coffee."),
            new Prompt("nutrition", "wellness-app", "Suggest a high-protein vegetarian breakfast."),
            new Prompt("nutrition", "wellness-app", "How much water should a 70 kg adult drink daily?"),
            new Prompt("nutrition", "clinic-south", "Low-sodium dinner ideas for hypertension."),
            new Prompt(null, "wellness-app", "Summarise the benefits of regular walking."),
            new Prompt(null, "clinic-north", "Write a short reminder to book a check-up."),
            new Prompt(null, "hospital-east", "List three questions to ask before surgery."));

    private DemoTraffic() {}
}
