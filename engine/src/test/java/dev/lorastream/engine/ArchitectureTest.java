package dev.lorastream.engine;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/** The engine's shape: its parts free of cycles, no Kafka or Avro in it, the scheduler behind the forward-pass interface. */
class ArchitectureTest {
    private static JavaClasses engine;

    @BeforeAll
    static void importClasses() {
        engine = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.lorastream.engine");
    }

    @Test
    void thePartsOfTheEngineHaveNoCycles() {
        slices().matching("dev.lorastream.engine.(*)..").should().beFreeOfCycles().check(engine);
    }

    @Test
    void theEngineKnowsNothingOfKafkaOrAvro() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("org.apache.kafka..", "org.apache.avro..", "dev.lorastream.schemas..",
                "dev.lorastream.worker..").check(engine);
    }

    @Test
    void theSchedulerRunsPassesThroughTheInterfaceNotOnnxRuntime() {
        noClasses().that().resideInAPackage("dev.lorastream.engine.scheduler..").should().dependOnClassesThat().resideInAPackage("ai.onnxruntime..")
                .check(engine);
    }

    @Test
    void modelGraphAndRuntimeDoNotReachUpIntoAdaptersSchedulerOrTheFacade() {
        noClasses().that().resideInAnyPackage("dev.lorastream.engine.model..", "dev.lorastream.engine.graph..", "dev.lorastream.engine.runtime..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.lorastream.engine.adapters..", "dev.lorastream.engine.scheduler..",
                        "dev.lorastream.engine.onnx..")
                .check(engine);
    }
}
