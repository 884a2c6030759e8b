package dev.lorastream.engine.sim;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** The simulated engine runs without a model: no ONNX Runtime, no Kafka or Avro, none of the real engine's runtime parts. */
class SimArchitectureTest {
    private static final JavaClasses SIM = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.lorastream.engine.sim");

    @Test
    void theSimulatedEngineNeedsNoOnnxRuntimeKafkaOrAvro() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("ai.onnxruntime..", "org.apache.kafka..", "org.apache.avro..",
                "dev.lorastream.schemas..", "dev.lorastream.worker..").check(SIM);
    }

    @Test
    void itReusesTheValidatorButNotTheRealEnginesRuntime() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.lorastream.engine.onnx..", "dev.lorastream.engine.runtime..",
                "dev.lorastream.engine.graph..", "dev.lorastream.engine.model..", "dev.lorastream.engine.adapters..").check(SIM);
    }
}
